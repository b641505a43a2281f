# bench/measure.sh — sourced by bench/run.sh and bench/letters.sh: one way
# to time a command and take the median of the runs.

# measure LOG DIR CMD… — runs CMD in DIR under /usr/bin/time -v; sets WALL
# (seconds), RSS (KiB), FSOUT (bytes written to disk), CPU (user + system
# seconds) and RC.
measure() {
	local log=$1 dir=$2
	shift 2
	local t0 t1
	t0=$(date +%s%N)
	set +e
	(cd "$dir" && /usr/bin/time -v -o "$log.time" "$@" >"$log" 2>&1)
	RC=$?
	set -e
	t1=$(date +%s%N)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log.time")
	FSOUT=$(awk -F': ' '/File system outputs/ { print $2 * 512 }' "$log.time")
	CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$log.time")
	if [ "$RC" -ne 0 ]; then
		echo "warning: $* exited $RC (see $log)" >&2
		tail -n 5 "$log" >&2
	fi
}

# median — the median of the numbers on stdin, one a line ("-" for none).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
