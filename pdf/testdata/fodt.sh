# Letter-building functions shared by the scripts that make letters with
# LibreOffice (pdf/testdata/gen.sh, examples/quickstart/letters/gen.sh).
# Source it after setting $work, a scratch directory.

# frame X Y W H LINE... : a page-anchored frame on page 1, no border, no padding.
frame() {
	local x=$1 y=$2 w=$3 h=$4
	shift 4
	printf '<draw:frame draw:style-name="fr" text:anchor-type="page" text:anchor-page-number="1" svg:x="%smm" svg:y="%smm" svg:width="%smm" svg:height="%smm"><draw:text-box>' "$x" "$y" "$w" "$h"
	for l in "$@"; do printf '<text:p text:style-name="F">%s</text:p>' "$l"; done
	printf '</draw:text-box></draw:frame>\n'
}

# letter NAME FRAMES BODY: writes NAME.fodt; BODY is the flowing text (paragraphs).
letter() {
	cat >"$work/$1.fodt" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:font-face-decls>
  <style:font-face style:name="Liberation Sans" svg:font-family="'Liberation Sans'" style:font-family-generic="swiss"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0mm" fo:margin-bottom="0mm"/>
   <style:text-properties style:font-name="Liberation Sans" fo:font-size="11pt" fo:language="fr" fo:country="FR"/>
  </style:default-style>
  <style:style style:name="F" style:family="paragraph"/>
  <style:style style:name="Body" style:family="paragraph">
   <style:paragraph-properties fo:margin-bottom="3mm" fo:text-align="justify"/>
  </style:style>
  <style:style style:name="Break" style:family="paragraph" style:parent-style-name="Body">
   <style:paragraph-properties fo:break-before="page"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:style style:name="fr" style:family="graphic">
   <style:graphic-properties draw:fill="none" draw:stroke="none" fo:background-color="transparent" fo:border="none" fo:padding="0mm" fo:margin-left="0mm" fo:margin-right="0mm"
    fo:margin-top="0mm" fo:margin-bottom="0mm" style:wrap="none" style:vertical-pos="from-top"
    style:vertical-rel="page" style:horizontal-pos="from-left" style:horizontal-rel="page"/>
  </style:style>
  <style:page-layout style:name="A4">
   <style:page-layout-properties fo:page-width="210mm" fo:page-height="297mm"
    fo:margin-top="100mm" fo:margin-bottom="20mm" fo:margin-left="20mm" fo:margin-right="20mm"/>
  </style:page-layout>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="A4"/>
 </office:master-styles>
 <office:body><office:text>
$2
$3
 </office:text></office:body>
</office:document>
EOF
}

