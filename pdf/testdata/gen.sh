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

# frame and letter: page-anchored frames at exact millimetre positions.
. "$here/fodt.sh"

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
