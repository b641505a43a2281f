#!/usr/bin/env bash
# bench/letters.sh — letters as code at scale (issue 13).
#
#   bench/letters.sh              # both scenarios, 5 runs each
#   RUNS=3 N_PLAN=2000 bench/letters.sh
#   ITALIC=1 SKIP_U=1 bench/letters.sh   # only r, with an italic word
#
#   r  render N_RENDER (1,000) one-page letters: plan --refresh=false of a
#      mail merge (a CSV, one Markdown template) no run has rendered, with an
#      empty cache folder. Goal < 5 s. ITALIC=1 puts a word of the template
#      in italics: each letter then embeds the oblique face too.
#   u  plan --refresh=false of N_PLAN (10,000) rendered letters, all posted
#      and terminal in the state, nothing to do: nothing is rendered or
#      hashed again. Goal < 1 s. One letter is posted through the
#      in-process sandbox and refreshed until terminal; the others are made
#      terminal by `gen -fill-state` (synthetic copies of it, recorded
#      with the engine's own reconcile.NewRecord).
#
# Everything generated lands in bench/out/letters/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/letters
RUNS=${RUNS:-5}
N_RENDER=${N_RENDER:-1000}
N_PLAN=${N_PLAN:-10000}
mkdir -p "$OUT"
BIN=$OUT/postform
echo "building…" >&2
go build -o "$BIN" .
go build -o "$OUT/gen" ./bench/gen
export POSTFORM_SANDBOX_TIME_SCALE=1000

# mailmerge DIR N — a working directory of N letters written as code.
mailmerge() {
	local dir=$1 n=$2
	rm -rf "$dir"
	mkdir -p "$dir/letters"
	awk -v n="$n" 'BEGIN {
		print "id,name,street,postcode,city,amount"
		for (i = 0; i < n; i++) printf "c%06d,Client nº %d,%d rue de la Paix,75002,Paris,\"%d,00 €\"\n", i, i, 1 + i % 200, 10 + i
	}' >"$dir/debtors.csv"
	cat >"$dir/letters/notice.md" <<'MD'
Madame, Monsieur,

Malgré nos relances, la somme de **${amount}** reste impayée à ce jour.

- facture du 3 octobre 2026 ;
- pénalités de retard.

Nous vous prions d’agréer nos salutations distinguées.
MD
	if [ "${ITALIC:-0}" = 1 ]; then sed -i 's/reste impayée/reste *impayée*/' "$dir/letters/notice.md"; fi
	cat >"$dir/main.mail.hcl" <<'HCL'
provider "nirva" {
  endpoint = "sandbox"
}

postform {
  max_posts = 100000
}

mailing "notice" {
  for_each = { for r in csvdecode(file("debtors.csv")) : r.id => r }
  service  = "Lettre simple"
  job_name = "notice-${each.key}"
  letter {
    from      = { name = "Société Exemple SAS", lines = ["3 place de l’Église"], postcode = "69002", city = "Lyon" }
    to        = { name = each.value.name, lines = [each.value.street], postcode = each.value.postcode, city = each.value.city }
    date      = "2026-12-01"
    subject   = "Mise en demeure de payer"
    body      = templatefile("letters/notice.md", each.value)
    signature = "Direction financière"
    footer    = "Société Exemple SAS — RCS Lyon 123 456 789"
  }
}
HCL
}

. "$ROOT/bench/measure.sh"

# r: every run renders afresh, in a directory and a cache folder of its own.
walls=()
for i in $(seq "$RUNS"); do
	DIR=$OUT/r$N_RENDER
	mailmerge "$DIR" "$N_RENDER"
	rm -rf "$OUT/cache-r"
	POSTFORM_CACHE_DIR=$OUT/cache-r measure "$OUT/r.$i.log" "$DIR" "$BIN" plan --refresh=false
	grep -q "Plan: $N_RENDER to post" "$OUT/r.$i.log" || { echo "r: the plan does not post $N_RENDER letters" >&2; exit 1; }
	[ "$(ls "$DIR/.postform/rendered" | wc -l)" -eq "$N_RENDER" ] || { echo "r: not $N_RENDER renderings" >&2; exit 1; }
	walls+=("$WALL")
done
R_WALL=$(printf '%s\n' "${walls[@]}" | median)
R_RSS=$RSS

if [ "${SKIP_U:-0}" = 1 ]; then
	printf '| r. render %s letters (plan of new letters, italic=%s) | %s s | < 5 s | %s MiB |\n' "$N_RENDER" "${ITALIC:-0}" "$R_WALL" "$((R_RSS / 1024))"
	exit 0
fi

# u: one letter through the sandbox until terminal, the rest synthetic.
DIR=$OUT/u$N_PLAN
export POSTFORM_CACHE_DIR=$OUT/cache-u
rm -rf "$POSTFORM_CACHE_DIR"
mailmerge "$DIR" "$N_PLAN"
(cd "$DIR" && "$BIN" apply --auto-approve --target='mailing.notice["c000000"]' >"$OUT/u.build.log" 2>&1)
for _ in $(seq 40); do
	out=$(cd "$DIR" && "$BIN" refresh | tail -n1)
	case $out in *"0 still in progress"* | "Nothing to refresh"*) break ;; esac
	sleep 0.5
done
"$OUT/gen" -fill-state "$DIR" >>"$OUT/u.build.log"
# Warm: the first plan after fill-state hashes the renderings once.
(cd "$DIR" && "$BIN" plan --refresh=false >"$OUT/u.warm.log" 2>&1)
grep -q "No changes" "$OUT/u.warm.log" || { echo "u: the plan is not empty:" >&2; tail -n 5 "$OUT/u.warm.log" >&2; exit 1; }
walls=()
for i in $(seq "$RUNS"); do
	measure "$OUT/u.$i.log" "$DIR" "$BIN" plan --refresh=false
	grep -q "No changes" "$OUT/u.$i.log" || { echo "u: the plan is not empty" >&2; exit 1; }
	walls+=("$WALL")
done
U_WALL=$(printf '%s\n' "${walls[@]}" | median)

printf '| scenario | median wall (%s runs) | goal | peak RSS |\n|---|---:|---|---:|\n' "$RUNS"
printf '| r. render %s letters (plan of new letters, italic=%s) | %s s | < 5 s | %s MiB |\n' "$N_RENDER" "${ITALIC:-0}" "$R_WALL" "$((R_RSS / 1024))"
printf '| u. plan --refresh=false, %s rendered letters unchanged | %s s | < 1 s | %s MiB |\n' "$N_PLAN" "$U_WALL" "$((RSS / 1024))"
