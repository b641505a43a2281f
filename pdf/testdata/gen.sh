#!/usr/bin/env bash
# Regenerates the LibreOffice-made fixture letters in this directory.
#
# Needs LibreOffice (Debian: apt-get install libreoffice-writer-nogui fonts-liberation)
# and Go (for pdfcpu, see cid.pdf below).
# The tests do not: they read the committed PDFs. Run from anywhere:
#
#   bash pdf/testdata/gen.sh
#
# Each letter is a flat ODT (.fodt) whose blocks are page-anchored frames at exact
# millimetre positions, the way letter templates place the sender and the address.
# LibreOffice's PDF export then gives what a real user's letter has: subset TrueType
# fonts with ToUnicode maps, Flate-compressed streams, accented text.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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

sender=$(frame 20 15 80 30 "Jean-François Dupré" "12 rue des Lilas" "69003 Lyon" "jf.dupre@example.fr")
date=$(frame 110 45 80 6 "Lyon, le 3 mars 2025")
body='<text:p text:style-name="Body">Objet : « Contestation de la facture n° 2025-117 »</text:p>
<text:p text:style-name="Body">Madame, Monsieur,</text:p>
<text:p text:style-name="Body">Je conteste la facture reçue le 12 février : le relevé indiqué a été établi après la résiliation, déjà confirmée par votre conseillère. Vous trouverez ci-joint la copie du reçu et de l’accusé de réception.</text:p>
<text:p text:style-name="Body">Je vous prie d’agréer, Madame, Monsieur, l’expression de mes salutations distinguées.</text:p>
<text:p text:style-name="Break">Pièce jointe : reçu du 12 février 2025, relevé de compteur, échéancier.</text:p>
<text:p text:style-name="Body">Page deux : aucune adresse ici, seulement la suite de la lettre.</text:p>'

# The recipient at the top of the default window (110 mm, 55 mm), four lines.
letter letter "$sender $date $(frame 110 56 85 30 "Société Générale" "Service Contentieux" "29 boulevard Haussmann" "75009 PARIS")" "$body"

# Abroad: the last line is the country, in capitals.
letter abroad "$sender $date $(frame 110 56 85 30 "Herrn Jürgen Weiß" "Hauptstraße 5" "10115 Berlin" "ALLEMAGNE")" "$body"

# The recipient typed at the top left, where the sender belongs: the window is empty.
letter topleft "$(frame 20 15 80 30 "Société Générale" "Service Contentieux" "29 boulevard Haussmann" "75009 PARIS") $date" "$body"

# A street line too long for the window: the envelope's right edge cuts it.
letter crossing "$sender $date $(frame 110 56 99 30 "Société Générale" "Résidence Les Grandes Terrasses du Parc, bâtiment B" "75009 PARIS")" "$body"

# No locality: the address stops at the street.
letter nolocality "$sender $date $(frame 110 56 85 30 "Madame Claire Léger" "Bâtiment C, escalier 2" "8 allée des Ormes")" "$body"

cd "$work"
soffice --headless --convert-to pdf:writer_pdf_Export --outdir "$here" ./*.fodt >/dev/null

# cid.pdf: another producer, pdfcpu (already a postform dependency), which embeds a
# TrueType font as a Type0/CIDFontType2 subset (Identity-H, ToUnicode) and packs
# objects into compressed object streams. Its configuration (the installed font)
# stays in the scratch directory.
cat >cid.json <<'JSON'
{
  "paper": "A4P",
  "origin": "LowerLeft",
  "fonts": {"f": {"name": "LiberationSans", "size": 11}},
  "pages": {
    "1": {"content": {"text": [
      {"value": "Jean-François Dupré\n12 rue des Lilas\n69003 Lyon", "pos": [57, 760], "font": {"name": "$f"}},
      {"value": "Société Générale\nService Contentieux\n29 boulevard Haussmann\n75009 PARIS", "pos": [313, 620], "font": {"name": "$f"}},
      {"value": "Objet : « Contestation » reçue, déjà, façon", "pos": [57, 520], "font": {"name": "$f"}}
    ]}},
    "2": {"content": {"text": [{"value": "Page deux : échéancier.", "pos": [57, 760], "font": {"name": "$f"}}]}}
  }
}
JSON
(cd "$here/../.." && go build -o "$work/pdfcpu" github.com/pdfcpu/pdfcpu/cmd/pdfcpu)
XDG_CONFIG_HOME=$work/cfg ./pdfcpu fonts install /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf >/dev/null
XDG_CONFIG_HOME=$work/cfg ./pdfcpu create cid.json "$here/cid.pdf" >/dev/null
ls -l "$here"/*.pdf
