#!/usr/bin/env bash
# Regenerates the quickstart's three letters with LibreOffice, the way a real
# user's letters are made: subset TrueType fonts, compressed streams, the
# sender top left and the recipient in the envelope's address window.
#
# Needs LibreOffice (Debian: apt-get install libreoffice-writer-nogui
# fonts-liberation); the quickstart itself only reads the committed PDFs.
#
#   bash examples/quickstart/letters/gen.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/../../../pdf/testdata/fodt.sh"

sender=$(frame 20 15 80 30 "Postform Demo SARL" "3 rue du Faubourg" "75010 Paris" "billing@example.com")
date=$(frame 110 45 80 6 "Paris, le 25 novembre 2026")

invoice() { # NAME NUMBER AMOUNT ADDRESS-LINES...
	local name=$1 number=$2 amount=$3
	shift 3
	letter "$name" "$sender $date $(frame 110 56 85 30 "$@")" "<text:p text:style-name=\"Body\">Objet : facture n° $number</text:p>
<text:p text:style-name=\"Body\">Madame, Monsieur,</text:p>
<text:p text:style-name=\"Body\">Veuillez trouver ci-dessous notre facture n° $number d’un montant de $amount €, payable à réception.</text:p>
<text:p text:style-name=\"Body\">Nous vous prions d’agréer nos salutations distinguées.</text:p>"
}

invoice invoice-acme 2026-11-001 "1 250,00" "ACME SAS" "Service Comptabilité" "12 rue de la Paix" "75002 PARIS"
invoice invoice-globex 2026-11-002 "3 480,00" "Globex Corporation" "1 avenue Foch" "75016 PARIS"
letter notice-initech "$sender $date $(frame 110 56 85 30 "Initech France" "À l’attention de M. Lumbergh" "5 rue Lafayette" "75009 PARIS")" '<text:p text:style-name="Body">Objet : mise en demeure de payer</text:p>
<text:p text:style-name="Body">Monsieur,</text:p>
<text:p text:style-name="Body">Malgré nos relances, la facture n° 2026-09-014 reste impayée. Nous vous mettons en demeure de la régler sous huit jours à compter de la réception de la présente.</text:p>
<text:p text:style-name="Body">Veuillez agréer, Monsieur, nos salutations distinguées.</text:p>'

cd "$work"
soffice --headless --convert-to pdf:writer_pdf_Export --outdir "$here" ./*.fodt >/dev/null
ls -l "$here"/*.pdf
