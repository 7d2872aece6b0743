#!/usr/bin/env bash
# bench-work.sh: the whole headless dispatcher process. WORKERS cards are
# assigned to the agent on a fresh board, and `spindle work --until-idle`
# runs them at once against the shared bench's loopback mock server
# (sse_server.py), each worker streaming TOKENS tokens at RATE tokens/s. It
# reports the CPU (user+sys, from getrusage of the waited-for child), wall
# time and peak RSS of the spindle process. Target: 4 workers × 2,000
# tokens at 200/s ≤ 25 % of one core.
#
#   scripts/bench-work.sh                       4 workers, 2,000 tokens at 200/s, 3 runs
#   WORKERS=1 scripts/bench-work.sh             one worker, for the per-worker cost
#   RATE=0 scripts/bench-work.sh                as fast as the sockets take them
#
# Settings (environment, defaults in brackets):
#   WORKERS [4] TOKENS [2000] RATE [200; 0 = as fast as possible] R [3]
#   PORT [18090]     the mock server's port on 127.0.0.1; refused if taken
#   SPINDLE_BIN      measure this binary instead of building one
#   BENCH_DIR        the shared harness [../shared/bench from the repository root]
#   LOAD_MAX [2]     wait until the 1-minute load average is below this ...
#   LOAD_WAIT [300]  ... for at most this many seconds, then run anyway and say so
#
# The mock server answers every request with the same text and no tool call,
# so each worker's turn is one streamed reply and its card goes to Review.
# The server is run with its side-request heuristic off: the workers' system
# prompt asks for "a one-line summary", which the heuristic would take for a
# summary request and answer with two words instead of the reply.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
export GOTOOLCHAIN=local

BENCH_DIR=${BENCH_DIR:-$repo/../shared/bench}
WORKERS=${WORKERS:-4}
TOKENS=${TOKENS:-2000}
RATE=${RATE:-200}
R=${R:-3}
PORT=${PORT:-18090}
LOAD_MAX=${LOAD_MAX:-2}
LOAD_WAIT=${LOAD_WAIT:-300}

die() { echo "bench-work: $*" >&2; exit 1; }

[ -f "$BENCH_DIR/sse_server.py" ] || die "no sse_server.py in BENCH_DIR=$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
for tool in python3 go; do
	command -v "$tool" >/dev/null || die "needs $tool"
done
for v in WORKERS TOKENS RATE R PORT; do
	case ${!v} in '' | *[!0-9]*) die "$v=${!v}: want a whole number" ;; esac
done
[ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 16 ] || die "WORKERS=$WORKERS: want 1 to 16"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-work.XXXXXX")
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

load1() { local l _; read -r l _ </proc/loadavg; echo "$l"; }
wait_quiet() {
	local waited=0
	while awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN { exit !(l >= m) }'; do
		if [ "$waited" -ge "$LOAD_WAIT" ]; then
			echo "bench-work: load $(load1) still >= $LOAD_MAX after ${LOAD_WAIT}s; measuring anyway (busy machine: treat the figures as pessimistic)"
			return
		fi
		[ "$waited" = 0 ] && echo "bench-work: load $(load1) >= $LOAD_MAX, waiting for a quiet machine (up to ${LOAD_WAIT}s)"
		sleep 5
		waited=$((waited + 5))
	done
}

if [ -z "${SPINDLE_BIN:-}" ]; then
	SPINDLE_BIN=$work/spindle
	(cd "$repo" && go build -o "$SPINDLE_BIN" .) || die "go build failed"
	echo "bench-work: built $(cd "$repo" && git describe --always --dirty 2>/dev/null) into $SPINDLE_BIN"
fi
[ -x "$SPINDLE_BIN" ] || die "SPINDLE_BIN=$SPINDLE_BIN is not an executable"

if python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $PORT)) != 0)"; then
	die "port $PORT is taken; set PORT"
fi
stats=$work/streams.jsonl
: >"$stats"
# The server, with is_side_request switched off (see the top of this file).
python3 -u -c '
import sys
sys.path.insert(0, sys.argv[1])
import sse_server
sse_server.is_side_request = lambda req: False
sys.argv = ["sse_server.py"] + sys.argv[2:]
sse_server.main()
' "$BENCH_DIR" --port "$PORT" --tokens "$TOKENS" --rate "$RATE" --stats "$stats" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	grep -q '^ready' "$work/server.out" 2>/dev/null && break
	kill -0 "$server_pid" 2>/dev/null || die "the mock server did not start: $(cat "$work/server.out")"
	sleep 0.1
done
grep -q '^ready' "$work/server.out" || die "the mock server is not ready after 10 s"

# measure CMD...: runs CMD, prints "user sys maxrss_kb wall" of it.
measure() {
	python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime:.3f} {r.ru_stime:.3f} {r.ru_maxrss} {wall:.3f} {rc}")
' "$@"
}

wait_quiet
echo "bench-work: WORKERS=$WORKERS TOKENS=$TOKENS RATE=$RATE R=$R; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cpus=()
for run in $(seq "$R"); do
	home=$work/run$run
	mkdir -p "$home"
	env_run=(env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share"
		XDG_STATE_HOME="$home/.local/state" SPINDLE_HOME="$home/spindle"
		OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy SPINDLE_MODEL=mock-1)
	for i in $(seq "$WORKERS"); do
		"${env_run[@]}" "$SPINDLE_BIN" kanban add --assignee agent "Bench job $i" >/dev/null || die "kanban add failed"
	done
	before=$(wc -l <"$stats")
	read -r user sys rss wall rc < <(measure "${env_run[@]}" "$SPINDLE_BIN" work --until-idle --max-workers "$WORKERS")
	[ "$rc" = 0 ] || die "run $run: spindle work exited $rc"
	# Every worker streamed the whole reply, and every card is in Review.
	streamed=$(tail -n +"$((before + 1))" "$stats" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
print(sum(1 for r in rows if r["tokens_sent"] == '"$TOKENS"' and not r["aborted"]))')
	review=$("${env_run[@]}" "$SPINDLE_BIN" kanban list --json | python3 -c '
import json, sys
print(sum(1 for c in json.load(sys.stdin) if c["status"] == "review"))')
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	pct=$(awk -v c="$cpu" -v w="$wall" 'BEGIN { printf "%.1f", 100 * c / w }')
	echo "bench-work: run $run: cpu ${cpu} s (user $user, sys $sys), wall ${wall} s, ${pct} % of one core, peak RSS $((rss / 1024)) MB; streams complete $streamed/$WORKERS, cards in Review $review/$WORKERS"
	[ "$streamed" = "$WORKERS" ] && [ "$review" = "$WORKERS" ] || die "run $run did not stream every reply to the end"
	cpus+=("$cpu $wall $pct")
done
printf '%s\n' "${cpus[@]}" | sort -n | awk -v n="$R" '{ c[NR] = $1; w[NR] = $2; p[NR] = $3 } END { m = int((n + 1) / 2); printf "bench-work: median of %d: cpu %s s, wall %s s, %s %% of one core (target for 4 × 2,000 at 200/s: ≤ 25 %%)\n", n, c[m], w[m], p[m] }'
echo "bench-work: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
