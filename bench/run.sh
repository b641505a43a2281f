#!/usr/bin/env bash
# bench/run.sh — postform at scale, measured against the ideal (issue 8).
#
#   bench/run.sh                 # every scenario, full size, 5 runs each
#   RUNS=3 bench/run.sh a        # only scenario a, 3 runs
#   SCALE=small bench/run.sh     # everything at 1/10 size: a quick check
#
# Scenarios:
#   a  apply creating N_A letters against `sandbox serve --latency 20ms`,
#      --parallelism=16; fresh state and fresh sandbox world each run.
#      ideal = requests × 20 ms ÷ 16.
#   b  plan --refresh=false on N_BIG (and N_SMALL) mailings, all recorded
#      in state and terminal, no changes. Targets: < 1 s, < 200 MiB RSS.
#   c  refresh of N_BIG mailings of which BLANK are NOT_ELIGIBLE (text-less
#      first page) and the others terminal, through a 20 ms latency proxy,
#      --parallelism=16. Only the BLANK letters (+ auth/logout) may cost calls.
#   d  state write cost of the N_BIG apply: bytes written to disk
#      (/usr/bin/time's "File system outputs", i.e. the kernel's write_bytes,
#      in 512-byte units) and, when strace is installed, the bytes postform
#      write()s to its state files; both against the final state size.
#      Target ≤ 4×.
#   e  plan --refresh=false at N_E letters (1,000 / 10,000 / 100,000), every
#      letter terminal, nothing to do, keyed by jsondecode(file("letters.json"))
#      and by a literal toset([...]) (issue 18). Goals at 100,000: json
#      < 1.5 s and < 400 MiB, literal < 2 s. BASE=/path/to/an/older/postform
#      also measures that binary (BASE_RUNS times, default 1) for a
#      before/after. N_E="1000 10000" measures only those sizes.
#   f  refresh at N_F letters (1,000 / 10,000 / 100,000) of which UNF
#      (1,000; at 1,000 letters all of them) are unfinished and the rest
#      terminal, through bench/delay's 20 ms (like `sandbox serve --latency`,
#      the least time from a request's arrival to its answer),
#      --parallelism=16 (issue 18).
#      The unfinished ones are text-less letters (NOT_ELIGIBLE for ever)
#      applied through the sandbox, like one template letter that is
#      refreshed until terminal; every other letter is made terminal by
#      `gen -fill-state` (synthetic: copies of the template's platform
#      part; refresh makes no call for a terminal letter). Goal: requests
#      = 2 × UNF + 2 (GET job and its pack groups each, auth, logout) and
#      wall ≤ 1.3 × ideal.
#   g  apply of N_G new letters (1,000 / 10,000 / 100,000) against
#      `sandbox serve --latency 20ms`, --parallelism=16 (issue 18). Goals:
#      wall ≤ 1.15 × ideal, bytes written ≤ 3 × the final state (the
#      kernel's write_bytes, and with strace postform's own write()s to the
#      state files, measured in a second, untimed run; STRACE=0 skips it),
#      peak RSS < 500 MiB.
#   h  the pg backend (issue 18): plan --refresh=false at N_H letters, every
#      letter terminal, in a copy of e's bench/out/weN moved into PostgreSQL
#      with init --migrate-state (goal at 100,000: < 3 s); and the WAL a
#      refresh that changes UNF_H (100) letters writes, in an f-style
#      workdir of N_H letters (goal: < 1 MB), right after a CHECKPOINT
#      (full-page writes: the worst case) and again without one. Uses
#      PG_CONN_STR when set, else starts its own PostgreSQL (initdb +
#      pg_ctl on a free loopback port, as the postgres user when root).
#      Runs after e (needs bench/out/weN; E_REUSE=1 keeps an existing one).
#   For f and g, ideal = (requests − 2) × 20 ms ÷ 16 + fixed session cost,
#   where the fixed cost is the wall of `plan --refresh=false` in the same
#   directory (configuration, state, plan, output: everything but the
#   platform) + 2 × 20 ms (authenticate and log out, one after the other).
#   Sizes of 100,000 and more run BIG_RUNS times (default 1).
#
# Everything generated lands in bench/out/ (gitignored). Each workdir's PDF
# hash cache is warmed by `postform validate` before it is measured, as it
# is on a machine where someone ran plan before apply.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
RUNS=${RUNS:-5}
SCALE=${SCALE:-full}
LATENCY_MS=20
PAR=16
case $SCALE in
small) N_A=100 N_BIG=1000 N_SMALL=100 BLANK=10 N_E=${N_E:-100 1000} N_F=${N_F:-1000} UNF=100 N_G=${N_G:-100 1000} N_H=${N_H:-100 1000} UNF_H=10 ;;
full) N_A=1000 N_BIG=10000 N_SMALL=1000 BLANK=100 N_E=${N_E:-1000 10000 100000} N_F=${N_F:-1000 10000 100000} UNF=1000 N_G=${N_G:-1000 10000 100000} N_H=${N_H:-1000 10000 100000} UNF_H=100 ;;
*) echo "SCALE is small or full" >&2; exit 2 ;;
esac
SCENARIOS=${*:-a b c d e f g h}

mkdir -p "$OUT/logs"
BIN=$OUT/postform
echo "building…" >&2
go build -o "$BIN" .
go build -o "$OUT/gen" ./bench/gen
go build -o "$OUT/delay" ./bench/delay

PIDS=()
PGSTOP=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ "${#PGSTOP[@]}" -gt 0 ]; then "${PGSTOP[@]}" >/dev/null 2>&1 || true; rm -rf "$PGDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_bg NAME CMD… — starts a server that prints "listening on URL";
# sets URL and BGPID.
start_bg() {
	local name=$1 log="$OUT/logs/$1.log"
	shift
	"$@" >"$log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
	URL=
	for _ in $(seq 100); do
		URL=$(sed -n 's/.*listening on //p' "$log" | head -n1)
		[ -n "$URL" ] && return 0
		sleep 0.05
	done
	echo "$name did not start:" >&2
	cat "$log" >&2
	exit 1
}

stop_bg() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

requests() { curl -fsS "$1/_sandbox/stats" | jq .total; }

# cputime PID — user + system CPU seconds the process has used so far.
cputime() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

. "$ROOT/bench/measure.sh"
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
ideal() { awk -v r="$1" -v p="$2" -v l="$LATENCY_MS" 'BEGIN { printf "%.3f", r * l / 1000 / p }'; }
ratio() { awk -v w="$1" -v i="$2" 'BEGIN { if (i > 0) printf "%.2f×", w / i; else print "-" }'; }

ROWS=()
NOTES=()
row() { ROWS+=("$(printf '%s|%s|%s|%s|%s|%s' "$@")"); }

# workdir NAME N BLANK — generates bench/out/NAME afresh and warms its hash cache.
workdir() {
	local dir=$OUT/$1
	rm -rf "$dir"
	"$OUT/gen" -n "$2" -blank "$3" -out "$dir" -endpoint http://127.0.0.1:1
	(cd "$dir" && "$BIN" validate >/dev/null)
	echo "$dir"
}

# settle DIR URL LEFT — refreshes until at most LEFT letters are unfinished.
settle() {
	local dir=$1 url=$2 left=$3 out n
	for _ in $(seq 20); do
		out=$(cd "$dir" && POSTFORM_VAR_endpoint=$url "$BIN" refresh --parallelism=$PAR | tail -n1)
		n=$(sed -n 's/.*; \([0-9]*\) still in progress.*/\1/p' <<<"$out")
		case $out in "Nothing to refresh"*) n=0 ;; esac
		[ -n "$n" ] && [ "$n" -le "$left" ] && return 0
		sleep 0.5
	done
	echo "settle $dir: still $n letters unfinished (want ≤ $left): $out" >&2
	exit 1
}

run_a() {
	local dir walls=() rss=() reqs=0 i
	dir=$(workdir wa "$N_A" 0)
	for i in $(seq "$RUNS"); do
		rm -f "$dir"/postform.state.json*
		start_bg serve-a "$BIN" sandbox serve --addr 127.0.0.1:0 --latency "${LATENCY_MS}ms"
		local before
		before=$(requests "$URL")
		POSTFORM_VAR_endpoint=$URL measure "$OUT/logs/a.$i" "$dir" "$BIN" apply --auto-approve --parallelism=$PAR
		reqs=$(($(requests "$URL") - before))
		stop_bg "$BGPID"
		walls+=("$WALL")
		rss+=("$RSS")
		echo "a run $i: ${WALL}s, $reqs requests, ${RSS} KiB" >&2
	done
	local w r id
	w=$(printf '%s\n' "${walls[@]}" | median)
	r=$(printf '%s\n' "${rss[@]}" | median)
	id=$(ideal "$reqs" "$PAR")
	row "a. apply $N_A new, 20 ms, par $PAR" "${w} s" "${id} s" "$(ratio "$w" "$id")" \
		"$reqs ($(awk -v r="$reqs" -v n="$N_A" 'BEGIN { printf "%.3f", r / n }')/letter)" "$(mib "$r")"
}

# The world for b, c and d: one memory-only sandbox on a fast clock, no latency.
world() {
	[ -n "${WORLD:-}" ] && return 0
	start_bg serve-world "$BIN" sandbox serve --addr 127.0.0.1:0 --time-scale 10000
	WORLD=$URL
	WORLDPID=$BGPID
}

# build NAME N BLANK — a workdir with every letter applied and refreshed
# until only the BLANK ones are unfinished.
build() {
	local dir
	dir=$(workdir "$1" "$2" "$3")
	(cd "$dir" && POSTFORM_VAR_endpoint=$WORLD "$BIN" apply --auto-approve --parallelism=$PAR >"$OUT/logs/build-$1.log" 2>&1)
	settle "$dir" "$WORLD" "$3"
	echo "$dir"
}

run_b() {
	world
	local n dir i walls rss
	for n in "$N_SMALL" "$N_BIG"; do
		dir=$(build "wb$n" "$n" 0)
		walls=()
		rss=()
		for i in $(seq "$RUNS"); do
			measure "$OUT/logs/b$n.$i" "$dir" "$BIN" plan --refresh=false
			walls+=("$WALL")
			rss+=("$RSS")
			echo "b$n run $i: ${WALL}s, ${RSS} KiB" >&2
		done
		local w r
		w=$(printf '%s\n' "${walls[@]}" | median)
		r=$(printf '%s\n' "${rss[@]}" | median)
		row "b. plan --refresh=false, $n in state" "${w} s" "target 1 s" "$(ratio "$w" 1)" "0" "$(mib "$r")"
	done
}

# refresh_run LOG DIR ENDPOINT — one measured refresh of DIR through
# ENDPOINT: appends WALL and RSS to the caller's walls and rss and sets its
# reqs to the requests the sandbox world ($WORLD) saw.
refresh_run() {
	local before
	before=$(requests "$WORLD")
	POSTFORM_VAR_endpoint=$3 measure "$1" "$2" "$BIN" refresh --parallelism=$PAR
	reqs=$(($(requests "$WORLD") - before))
	walls+=("$WALL")
	rss+=("$RSS")
}

run_c() {
	world
	local dir proxy i walls=() rss=() reqs=0
	dir=$(build wc "$N_BIG" "$BLANK")
	start_bg delay-c "$OUT/delay" -to "$WORLD" -latency "${LATENCY_MS}ms"
	proxy=$URL
	for i in $(seq "$RUNS"); do
		refresh_run "$OUT/logs/c.$i" "$dir" "$proxy"
		echo "c run $i: ${WALL}s, $reqs requests, ${RSS} KiB" >&2
	done
	stop_bg "$BGPID"
	local w r id
	w=$(printf '%s\n' "${walls[@]}" | median)
	r=$(printf '%s\n' "${rss[@]}" | median)
	id=$(ideal "$reqs" "$PAR")
	row "c. refresh $N_BIG, $BLANK unfinished, 20 ms" "${w} s" "${id} s" "$(ratio "$w" "$id")" \
		"$reqs (target $((2 * BLANK + 2)))" "$(mib "$r")"
}

run_d() {
	world
	local dir size before reqs
	dir=$(workdir wd "$N_BIG" 0)
	before=$(requests "$WORLD")
	POSTFORM_VAR_endpoint=$WORLD measure "$OUT/logs/d" "$dir" "$BIN" apply --auto-approve --parallelism=$PAR
	reqs=$(($(requests "$WORLD") - before))
	size=$(stat -c %s "$dir/postform.state.json")
	row "d. apply $N_BIG new, no latency, par $PAR" "${WALL} s" "-" "-" "$reqs" "$(mib "$RSS")"
	NOTES+=("d. disk bytes written by the $N_BIG apply: $FSOUT (kernel write_bytes, page-granular) for a final state of $size bytes: $(awk -v a="$FSOUT" -v b="$size" 'BEGIN { printf "%.2f×", a / b }') (target ≤ 4×)")
	if command -v strace >/dev/null; then
		# Same apply again from a fresh state, under strace, to count what
		# postform itself write()s to each state file (journal, snapshot,
		# backup, lock). strace slows it down: its wall time is not reported.
		rm -rf "$dir"/postform.state.json*
		statebytes "$dir" "$WORLD" "$OUT/logs/d-strace.log"
		NOTES+=("d. bytes postform write()s to state files during the $N_BIG apply: $LOGICAL for a final state of $SIZE bytes: $(awk -v a="${LOGICAL%% *}" -v b="$SIZE" 'BEGIN { printf "%.2f×", a / b }') (target ≤ 4×)")
	fi
}

# statebytes DIR URL LOG — applies DIR against URL under strace and sets
# LOGICAL to the bytes written to the state files ("TOTAL (file n; …)") and
# SIZE to the final state's size.
statebytes() {
	local dir=$1 url=$2 log=$3
	rm -rf "$OUT/strace"
	mkdir -p "$OUT/strace"
	(cd "$dir" && POSTFORM_VAR_endpoint=$url strace -f -ff -qq -s 0 -y -e signal=none \
		-e trace=write,pwrite64,writev,pwritev,copy_file_range,sendfile \
		-o "$OUT/strace/t" "$BIN" apply --auto-approve --parallelism=$PAR >"$log" 2>&1)
	SIZE=$(stat -c %s "$dir/postform.state.json")
	LOGICAL=$(cat "$OUT"/strace/t.* | awk '
		/= [0-9]+$/ {
			n = $NF
			if ($0 ~ /^(copy_file_range)\(/) { split($0, a, ", "); p = a[3] } else if ($0 ~ /^sendfile\(/) { p = $0 } else { p = $0; sub(/, .*/, "", p) }
			if (p ~ /postform\.state\.json/) {
				f = p; sub(/^[^<]*</, "", f); sub(/>.*/, "", f); sub(/.*\//, "", f)
				gsub(/\.tmp[0-9A-Za-z-]*$/, ".tmp", f)
				by[f] += n; total += n
			}
		}
		END { s = ""; for (f in by) s = s sprintf("%s %d; ", f, by[f]); printf "%d (%s)", total, s }')
	rm -rf "$OUT/strace"
}

# runs_for N — how many times a scenario of N letters is measured.
runs_for() { if [ "$1" -ge 100000 ]; then echo "${BIG_RUNS:-1}"; else echo "$RUNS"; fi; }

# fixed DIR — the session's fixed cost in seconds (see f and g above). In
# f the plan exits 1 (the NOT_ELIGIBLE letters are errors) after the same work.
fixed() {
	measure "$OUT/logs/fixed" "$1" "$BIN" plan --refresh=false 2>/dev/null
	awk -v w="$WALL" -v l="$LATENCY_MS" 'BEGIN { printf "%.3f", w + 2 * l / 1000 }'
}

# ideal18 REQUESTS FIXED — the ideal of f and g.
ideal18() { awk -v r="$1" -v f="$2" -v p="$PAR" -v l="$LATENCY_MS" 'BEGIN { printf "%.3f", (r - 2) * l / 1000 / p + f }'; }

# build_unfinished NAME N UNF — a workdir of N letters of which UNF are
# unfinished for ever and the rest terminal (f and h; see f above).
build_unfinished() {
	local name=$1 n=$2 unf=$3 dir k targets=()
	dir=$(workdir "$name" "$n" "$unf")
	# Through the sandbox: the unfinished letters and one template
	# letter with text (c000001; unless every letter is unfinished).
	for k in $(jq -r 'to_entries[] | select(.value.check | not) | .key' "$dir/letters.json"); do
		targets+=("--target=mailing.letter[\"$k\"]")
	done
	[ "$unf" -lt "$n" ] && targets+=('--target=mailing.letter["c000001"]')
	(cd "$dir" && POSTFORM_VAR_endpoint=$WORLD "$BIN" apply --auto-approve --parallelism=$PAR "${targets[@]}" >"$OUT/logs/build-$name.log" 2>&1)
	settle "$dir" "$WORLD" "$unf"
	if [ "$unf" -lt "$n" ]; then
		"$OUT/gen" -fill-state "$dir" >>"$OUT/logs/build-$name.log"
	fi
	echo "$dir"
}

run_f() {
	world
	local n dir unf proxy i walls rss reqs fx w r id
	start_bg delay-f "$OUT/delay" -to "$WORLD" -latency "${LATENCY_MS}ms"
	proxy=$URL
	for n in $N_F; do
		unf=$((UNF < n ? UNF : n))
		dir=$(build_unfinished "wf$n" "$n" "$unf")
		fx=$(fixed "$dir")
		walls=()
		rss=()
		for i in $(seq "$(runs_for "$n")"); do
			refresh_run "$OUT/logs/f$n.$i" "$dir" "$proxy"
			echo "f$n run $i: ${WALL}s, $reqs requests, ${RSS} KiB, CPU ${CPU}s, load $(cut -d' ' -f1-3 /proc/loadavg) (fixed ${fx}s)" >&2
			NOTES+=("f. $n run $i: ${WALL} s, postform CPU ${CPU} s, $FSOUT bytes written; load average after: $(cut -d' ' -f1-3 /proc/loadavg)")
		done
		w=$(printf '%s\n' "${walls[@]}" | median)
		r=$(printf '%s\n' "${rss[@]}" | median)
		id=$(ideal18 "$reqs" "$fx")
		row "f. refresh $n, $unf unfinished, 20 ms, par $PAR" "${w} s" "${id} s (fixed ${fx} s)" "$(ratio "$w" "$id") (goal ≤ 1.3×)" \
			"$reqs (target $((2 * unf + 2)))" "$(mib "$r")"
	done
	stop_bg "$BGPID"
}

run_g() {
	local n dir i walls rss fsout reqs before fx w r id size scpu
	for n in $N_G; do
		dir=$(workdir "wg$n" "$n" 0)
		# A plan of new letters authenticates (it resolves the service):
		# its fixed cost is measured against a sandbox without latency.
		start_bg serve-g "$BIN" sandbox serve --addr 127.0.0.1:0
		fx=$(POSTFORM_VAR_endpoint=$URL fixed "$dir")
		stop_bg "$BGPID"
		walls=()
		rss=()
		fsout=()
		for i in $(seq "$(runs_for "$n")"); do
			rm -f "$dir"/postform.state.json*
			start_bg serve-g "$BIN" sandbox serve --addr 127.0.0.1:0 --latency "${LATENCY_MS}ms"
			before=$(requests "$URL")
			scpu=$(cputime "$BGPID")
			POSTFORM_VAR_endpoint=$URL measure "$OUT/logs/g$n.$i" "$dir" "$BIN" apply --auto-approve --parallelism=$PAR
			reqs=$(($(requests "$URL") - before))
			scpu=$(awk -v a="$scpu" -v b="$(cputime "$BGPID")" 'BEGIN { printf "%.2f", b - a }')
			stop_bg "$BGPID"
			walls+=("$WALL")
			rss+=("$RSS")
			fsout+=("$FSOUT")
			echo "g$n run $i: ${WALL}s, $reqs requests, ${RSS} KiB, $FSOUT bytes written, CPU postform ${CPU}s sandbox ${scpu}s, load $(cut -d' ' -f1-3 /proc/loadavg) (fixed ${fx}s)" >&2
			NOTES+=("g. $n run $i: ${WALL} s; CPU: postform ${CPU} s, sandbox ${scpu} s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)")
		done
		size=$(stat -c %s "$dir/postform.state.json")
		w=$(printf '%s\n' "${walls[@]}" | median)
		r=$(printf '%s\n' "${rss[@]}" | median)
		id=$(ideal18 "$reqs" "$fx")
		row "g. apply $n new, 20 ms, par $PAR" "${w} s" "${id} s (fixed ${fx} s)" "$(ratio "$w" "$id") (goal ≤ 1.15×)" \
			"$reqs" "$(mib "$r") (goal < 500 MiB)"
		local fo
		fo=$(printf '%s\n' "${fsout[@]}" | median)
		NOTES+=("g. $n: kernel write_bytes $fo for a final state of $size bytes: $(awk -v a="$fo" -v b="$size" 'BEGIN { printf "%.2f×", a / b }') (goal ≤ 3×)")
		if [ "${STRACE:-1}" != 0 ] && command -v strace >/dev/null; then
			rm -f "$dir"/postform.state.json*
			start_bg serve-g "$BIN" sandbox serve --addr 127.0.0.1:0
			statebytes "$dir" "$URL" "$OUT/logs/g$n-strace.log"
			stop_bg "$BGPID"
			NOTES+=("g. $n: postform write()s $LOGICAL to the state files for a final state of $SIZE bytes: $(awk -v a="${LOGICAL%% *}" -v b="$SIZE" 'BEGIN { printf "%.2f×", a / b }') (goal ≤ 3×)")
		fi
	done
}

run_e() {
	world
	local n dir keys bin runs i walls rss w r goal
	for n in $N_E; do
		if [ "${E_REUSE:-0}" = 1 ] && [ -s "$OUT/we$n/postform.state.json" ]; then
			dir=$OUT/we$n # built before (at 100,000 by hand: see bench/RESULTS.md)
		else
			dir=$(build "we$n" "$n" 0)
		fi
		for keys in json literal; do
			# Same addresses, documents and checks: only the keys' source changes.
			"$OUT/gen" -n "$n" -out "$dir" -endpoint http://127.0.0.1:1 -keys "$keys" -config-only
			goal="goal at 100,000: < 2 s"
			[ "$keys" = json ] && goal="goal at 100,000: < 1.5 s, < 400 MiB"
			for bin in "$BIN" ${BASE:-}; do
				runs=$RUNS
				[ "$bin" = "$BIN" ] || runs=${BASE_RUNS:-1}
				walls=()
				rss=()
				for i in $(seq "$runs"); do
					measure "$OUT/logs/e$n-$keys.$i" "$dir" "$bin" plan --refresh=false
					if ! grep -q "No changes" "$OUT/logs/e$n-$keys.$i"; then
						echo "e$n $keys: plan has changes (see $OUT/logs/e$n-$keys.$i)" >&2
						exit 1
					fi
					walls+=("$WALL")
					rss+=("$RSS")
					echo "e$n $keys $(basename "$bin") run $i: ${WALL}s, ${RSS} KiB" >&2
				done
				w=$(printf '%s\n' "${walls[@]}" | median)
				r=$(printf '%s\n' "${rss[@]}" | median)
				row "e. plan --refresh=false, $n terminal, $keys keys$([ "$bin" = "$BIN" ] || echo " (BASE)")" "${w} s" "$goal" "-" "0" "$(mib "$r")"
			done
		done
		"$OUT/gen" -n "$n" -out "$dir" -endpoint http://127.0.0.1:1 -config-only
	done
}

# pg_start — sets PG_CONN_STR: the caller's, or a PostgreSQL of our own in
# a temporary folder on a free loopback port, stopped on exit.
pg_start() {
	[ -n "${PG_CONN_STR:-}" ] && return 0
	local bin as=() port
	bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1)")
	[ -x "$bin/pg_ctl" ] || bin=$(dirname "$(command -v pg_ctl)")
	PGDIR=$(mktemp -d /tmp/postform-bench-pg.XXXXXX)
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$PGDIR"
		as=(runuser -u postgres --)
	fi
	"${as[@]}" "$bin/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --no-instructions >"$OUT/logs/pg-initdb.log" 2>&1
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"${as[@]}" "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -o "-p $port -h 127.0.0.1 -k $PGDIR" start >"$OUT/logs/pg-start.log"
	PGSTOP=("${as[@]}" "$bin/pg_ctl" -D "$PGDIR/data" -m fast stop)
	PG_CONN_STR="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	export PG_CONN_STR
}

# to_pg SRC DST SCHEMA — DST is a copy of the workdir SRC (its letters hard
# linked, its hash caches copied) whose state is moved into SCHEMA.
to_pg() {
	rm -rf "$2"
	mkdir -p "$2"
	cp -al "$1/letters" "$2/letters"
	cp "$1/letters.json" "$1/main.mail.hcl" "$1"/postform.state.json "$2/"
	[ -d "$1/.postform" ] && cp -r "$1/.postform" "$2/.postform"
	psql "$PG_CONN_STR" -qc "DROP SCHEMA IF EXISTS $3 CASCADE" >/dev/null 2>&1 || true
	(cd "$2" && "$BIN" init >/dev/null)
	awk -v schema="$3" '
		/backend "local"/ { print "  backend \"pg\" {"; print "    schema_name = \"" schema "\""; skip = 1; next }
		skip && /^  }/ { skip = 0 }
		!skip { print }' "$1/main.mail.hcl" >"$2/main.mail.hcl"
	(cd "$2" && "$BIN" init --migrate-state >"$OUT/logs/migrate-$3.log" 2>&1) || { cat "$OUT/logs/migrate-$3.log" >&2; exit 1; }
	rm -f "$2"/postform.state.json*
	# The hash and recipient caches name files by path: warm them here.
	(cd "$2" && "$BIN" plan --refresh=false >/dev/null 2>&1) || true
}

# wal_since LSN — bytes of WAL written since LSN.
wal_since() { psql "$PG_CONN_STR" -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$1')"; }

run_h() {
	world
	pg_start
	local n dir src i walls rss w r unf lsn bytes
	for n in $N_H; do
		src=$OUT/we$n
		[ -s "$src/postform.state.json" ] || { echo "h: $src has no state: run scenario e at $n first" >&2; exit 1; }
		dir=$OUT/wh$n
		to_pg "$src" "$dir" "bench_plan_$n"
		walls=()
		rss=()
		for i in $(seq "$RUNS"); do
			measure "$OUT/logs/h$n.$i" "$dir" "$BIN" plan --refresh=false
			grep -q "No changes" "$OUT/logs/h$n.$i" || { echo "h$n: plan has changes (see $OUT/logs/h$n.$i)" >&2; exit 1; }
			walls+=("$WALL")
			rss+=("$RSS")
			echo "h$n run $i: ${WALL}s, ${RSS} KiB, CPU ${CPU}s, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		done
		w=$(printf '%s\n' "${walls[@]}" | median)
		r=$(printf '%s\n' "${rss[@]}" | median)
		row "h. pg: plan --refresh=false, $n terminal" "${w} s" "goal at 100,000: < 3 s" "-" "0" "$(mib "$r")"
		# The WAL of a refresh that changes UNF_H letters.
		unf=$((UNF_H < n ? UNF_H : n))
		# Built afresh each time: its jobs live in this run's sandbox world.
		src=$(build_unfinished "whu$n" "$n" "$unf")
		to_pg "$src" "$OUT/whw$n" "bench_wal_$n"
		for i in checkpoint plain; do
			[ "$i" = checkpoint ] && psql "$PG_CONN_STR" -qc CHECKPOINT
			lsn=$(psql "$PG_CONN_STR" -Atc "SELECT pg_current_wal_lsn()")
			POSTFORM_VAR_endpoint=$WORLD measure "$OUT/logs/hw$n.$i" "$OUT/whw$n" "$BIN" refresh --parallelism=$PAR
			bytes=$(wal_since "$lsn")
			[ "$RC" = 0 ] || { echo "h$n: the refresh failed (see $OUT/logs/hw$n.$i)" >&2; exit 1; }
			grep -q "$unf still in progress" "$OUT/logs/hw$n.$i" || { echo "h$n: the refresh did not see $unf unfinished letters (see $OUT/logs/hw$n.$i)" >&2; exit 1; }
			echo "h$n WAL ($i): $bytes bytes for a refresh changing $unf letters, ${WALL}s" >&2
			NOTES+=("h. pg, $n letters: a refresh changing $unf letters wrote $bytes bytes of WAL ($([ "$i" = checkpoint ] && echo "right after a CHECKPOINT: full-page writes" || echo "the next refresh, no checkpoint between")); goal < 1 MB; ${WALL} s")
		done
	done
}

for s in $SCENARIOS; do
	echo "== scenario $s ($SCALE, RUNS=$RUNS)" >&2
	"run_$s"
done

{
	echo
	echo "postform bench — $(date -u +%Y-%m-%d), SCALE=$SCALE, RUNS=$RUNS (median), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(go version | awk '{ print $3 }')"
	echo
	echo "| scenario | wall (median) | ideal | ratio | requests | peak RSS |"
	echo "| --- | --- | --- | --- | --- | --- |"
	for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
	echo
	for n in "${NOTES[@]}"; do echo "- $n"; done
} | tee "$OUT/results-$SCALE.md"
