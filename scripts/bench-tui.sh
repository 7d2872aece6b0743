#!/usr/bin/env bash
# bench-tui.sh: the whole spindle process in a 120x40 tmux pane, streaming a
# deterministic reply from a loopback mock server, measured the way a person
# sees it: CPU, wall and RSS of the TUI's own process. It builds spindle from
# this tree and runs the shared bench harness (tui_bench.sh + sse_server.py,
# read its README.md for what each figure means and its biases).
#
#   scripts/bench-tui.sh                           2,000 tokens at 200/s, 3 runs
#   TOKENS=20000 RATE=0 scripts/bench-tui.sh       as fast as the socket takes them
#   TOKENS=18000 RATE=900 scripts/bench-tui.sh     ~900 chunks/s for 20 s
#   MODE=idle IDLE_S=10 scripts/bench-tui.sh       idle CPU and startup
#   MODE=floor scripts/bench-tui.sh                the harness's own startup floor
#   CONTINUE=10000 scripts/bench-tui.sh            --continue of a 10,000-message session
#   PROFILE=1 scripts/bench-tui.sh                 + CPU profile of the TUI, pprof -top
#
# Settings (environment, defaults in brackets):
#   TOKENS [2000] RATE [200; 0 = as fast as possible] R [3] MODE [stream|idle|floor]
#   IDLE_S [10] IDLE_DELAY_S [2]      idle window and its delay after the first screen
#   CONTINUE [0]     seed a state.db with one session of N messages and start
#                    spindle with --continue on a copy of it in every run
#   PROFILE [0]      1: SPINDLE_CPUPROFILE for the TUI, one file per run in
#                    PROFILE_DIR [a new temp dir, kept], then pprof -top
#                    (flat and cumulative) over all runs merged
#   NODECOUNT [40]   rows of pprof -top
#   SPINDLE_BIN      measure this binary instead of building one
#   BENCH_DIR        the harness [../shared/bench from the repository root]
#   LOAD_MAX [2]     wait until the 1-minute load average is below this ...
#   LOAD_WAIT [300]  ... for at most this many seconds, then run anyway and say so
#   The last line also says how busy the whole machine was during the runs
#   (all processes, from /proc/stat): the bench itself accounts for part of it.
#   Anything else tui_bench.sh reads (PORT, OUT_DIR, TRACE, SETTLE_S, ...) passes through.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
export GOTOOLCHAIN=local

BENCH_DIR=${BENCH_DIR:-$repo/../shared/bench}
TOKENS=${TOKENS:-2000}
RATE=${RATE:-200}
R=${R:-3}
MODE=${MODE:-stream}
CONTINUE=${CONTINUE:-0}
PROFILE=${PROFILE:-0}
NODECOUNT=${NODECOUNT:-40}
LOAD_MAX=${LOAD_MAX:-2}
LOAD_WAIT=${LOAD_WAIT:-300}

die() { echo "bench-tui: $*" >&2; exit 1; }

for f in tui_bench.sh spindle.sh sse_server.py; do
	[ -f "$BENCH_DIR/$f" ] || die "the bench harness is missing: no $f in BENCH_DIR=$BENCH_DIR (set BENCH_DIR to the directory holding tui_bench.sh, spindle.sh and sse_server.py)"
done
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
for tool in tmux python3 go; do
	command -v "$tool" >/dev/null || die "needs $tool"
done
case $MODE in stream | idle | floor) ;; *) die "MODE=$MODE: want stream, idle or floor" ;; esac
case $CONTINUE in '' | *[!0-9]*) die "CONTINUE=$CONTINUE: want a number of messages" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-tui.XXXXXX")
trap 'rm -rf "$work"' EXIT

load1() { local l _; read -r l _ </proc/loadavg; echo "$l"; }
# cpu_ticks: "busy total" clock ticks of the whole machine, from /proc/stat.
cpu_ticks() {
	local _cpu user nice sys idle iowait irq softirq steal _rest
	read -r _cpu user nice sys idle iowait irq softirq steal _rest </proc/stat
	echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}
# machine_busy BEFORE AFTER: how busy all cores were in between, in % of the
# whole machine; everything counts (tmux, the mock server, the harness, the
# TUI, and anyone else's builds), so it says how noisy the figures are.
machine_busy() {
	local b0 t0 b1 t1
	read -r b0 t0 <<<"$1"
	read -r b1 t1 <<<"$2"
	[ $((t1 - t0)) -gt 0 ] || { echo NA; return; }
	echo "$(((b1 - b0) * 100 / (t1 - t0)))% of $(nproc) cores"
}
# wait_quiet: until load1 < LOAD_MAX or LOAD_WAIT has passed; prints the load.
wait_quiet() {
	local waited=0
	while awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN { exit !(l >= m) }'; do
		if [ "$waited" -ge "$LOAD_WAIT" ]; then
			echo "bench-tui: load $(load1) still >= $LOAD_MAX after ${LOAD_WAIT}s; measuring anyway (busy machine: treat the figures as pessimistic)"
			return
		fi
		[ "$waited" = 0 ] && echo "bench-tui: load $(load1) >= $LOAD_MAX, waiting for a quiet machine (up to ${LOAD_WAIT}s)"
		sleep 5
		waited=$((waited + 5))
	done
}

if [ "$MODE" = floor ]; then
	wait_quiet
	echo "bench-tui: harness floor for startup_s; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	ticks0=$(cpu_ticks)
	TUI_CMD='printf "ready\n"; exec sleep 30' READY_RE=ready MODE=idle IDLE_S=1 IDLE_DELAY_S=0 QUIT_KEYS=C-c R=$R \
		"$BENCH_DIR/tui_bench.sh"
	echo "bench-tui: load after: $(cut -d' ' -f1-3 /proc/loadavg); whole machine busy during the runs: $(machine_busy "$ticks0" "$(cpu_ticks)")"
	exit 0
fi

if [ -z "${SPINDLE_BIN:-}" ]; then
	SPINDLE_BIN=$work/spindle
	(cd "$repo" && go build -o "$SPINDLE_BIN" .) || die "go build failed"
	echo "bench-tui: built $(cd "$repo" && git describe --always --dirty 2>/dev/null) into $SPINDLE_BIN"
fi
[ -x "$SPINDLE_BIN" ] || die "SPINDLE_BIN=$SPINDLE_BIN is not an executable"
export SPINDLE_BIN

args=""
if [ "$CONTINUE" -gt 0 ]; then
	seed=$work/seed/state.db
	mkdir -p "$work/seed"
	(cd "$repo" && go run ./scripts/seedstate -n "$CONTINUE" "$seed") || die "seeding $CONTINUE messages failed"
	export BENCH_SEED=$seed
	# spindle.sh's data directory is $BENCH_RUN_DIR/home/spindle; every run
	# resumes its own copy of the closed seed file.
	export PRE_RUN='mkdir -p "$BENCH_RUN_DIR/home/spindle" && cp "$BENCH_SEED" "$BENCH_RUN_DIR/home/spindle/state.db"'
	args=" --continue"
fi

profile_env=""
if [ "$PROFILE" = 1 ]; then
	PROFILE_DIR=${PROFILE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-tui-profiles.XXXXXX")}
	mkdir -p "$PROFILE_DIR" || die "cannot create PROFILE_DIR=$PROFILE_DIR"
	export BENCH_PROFILE_DIR=$PROFILE_DIR
	# One file per run, named after the harness's run directory.
	profile_env=' SPINDLE_CPUPROFILE="$BENCH_PROFILE_DIR/${BENCH_RUN_DIR##*/}.pprof"'
fi

# spindle.sh's own command line, plus the profile and --continue. The pane
# runs it with bash -c; the variables come from this environment.
export TUI_CMD='exec env HOME="$BENCH_RUN_DIR/home" XDG_CONFIG_HOME="$BENCH_RUN_DIR/home/.config" XDG_DATA_HOME="$BENCH_RUN_DIR/home/.local/share" XDG_STATE_HOME="$BENCH_RUN_DIR/home/.local/state" SPINDLE_HOME="$BENCH_RUN_DIR/home/spindle" OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy SPINDLE_MODEL=mock-1'"$profile_env"' "$SPINDLE_BIN"'"$args"
export TOKENS RATE R MODE

wait_quiet
echo "bench-tui: MODE=$MODE TOKENS=$TOKENS RATE=$RATE R=$R CONTINUE=$CONTINUE PROFILE=$PROFILE; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
ticks0=$(cpu_ticks)
"$BENCH_DIR/spindle.sh"
echo "bench-tui: load after: $(cut -d' ' -f1-3 /proc/loadavg); whole machine busy during the runs: $(machine_busy "$ticks0" "$(cpu_ticks)")"

if [ "$PROFILE" = 1 ]; then
	shopt -s nullglob
	profiles=("$PROFILE_DIR"/*.pprof)
	[ ${#profiles[@]} -gt 0 ] || die "PROFILE=1 but no profile was written in $PROFILE_DIR"
	echo "bench-tui: ${#profiles[@]} profiles in $PROFILE_DIR, merged:"
	echo "--- go tool pprof -top -nodecount=$NODECOUNT"
	go tool pprof -top -nodecount="$NODECOUNT" "$SPINDLE_BIN" "${profiles[@]}" 2>&1
	echo "--- go tool pprof -top -cum -nodecount=$NODECOUNT"
	go tool pprof -top -cum -nodecount="$NODECOUNT" "$SPINDLE_BIN" "${profiles[@]}" 2>&1
	# The binary is in $work, removed on exit; keep a copy for later pprof.
	cp "$SPINDLE_BIN" "$PROFILE_DIR/spindle" 2>/dev/null
	echo "bench-tui: profiles and binary kept in $PROFILE_DIR (go tool pprof -http=: $PROFILE_DIR/spindle $PROFILE_DIR/*.pprof)"
fi
