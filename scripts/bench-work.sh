#!/usr/bin/env bash
# bench-work.sh: the whole dispatcher process. WORKERS cards are assigned to
# the agent on a fresh board and run at once against the shared bench's
# loopback mock server (sse_server.py), each worker streaming TOKENS tokens
# at RATE tokens/s.
#
# MODE=work (the default): headless, `spindle work --until-idle`. It reports
# the CPU (user+sys, from getrusage of the waited-for child), wall time and
# peak RSS of the spindle process. Target: 4 workers × 2,000 tokens at
# 200/s ≤ 25 % of one core.
#
# MODE=tui: the full-screen `spindle` in a private tmux server's 120x40 pane
# (the wide layout: the board beside the chat), whose dispatcher runs the
# same cards while the board shows them (config.toml's max_workers =
# WORKERS, so all run at once). From the pane's start until every card is in
# Review (kanban.db polled every POLL_MS), it reports the wall time and the
# process's CPU (user+sys, all threads, from /proc/PID/stat as the shared
# harness reads it; clock ticks of 10 ms), and VmHWM (peak RSS since start).
# Half a second into the stream, one capture of the pane checks that the
# board shows every card Running (board=ok). Then it quits with Ctrl-C twice
# and checks spindle exits with status 0. One key=value line per run, then a
# median line over the runs that are ok. Target: 4 workers × 2,000 tokens at
# 200/s, board visible: ≤ 1.5 s CPU in all.
#
#   scripts/bench-work.sh                       headless, 4 workers, 2,000 tokens at 200/s, 3 runs
#   WORKERS=1 scripts/bench-work.sh             one worker, for the per-worker cost
#   RATE=0 scripts/bench-work.sh                as fast as the sockets take them
#   MODE=tui scripts/bench-work.sh              the same, in the full-screen UI with the board
#   MODE=tui PROFILE=1 R=1 scripts/bench-work.sh   + a CPU profile, pprof -top -cum
#
# Settings (environment, defaults in brackets):
#   MODE [work|tui]
#   WORKERS [4] TOKENS [2000] RATE [200; 0 = as fast as possible] R [3]
#   PORT [18090]     the mock server's port on 127.0.0.1; refused if taken
#   SPINDLE_BIN      measure this binary instead of building one
#   BENCH_DIR        the shared harness [../shared/bench from the repository root]
#   LOAD_MAX [2]     wait until the 1-minute load average is below this ...
#   LOAD_WAIT [300]  ... for at most this many seconds, then run anyway and say so
#   PROFILE [0]      1: SPINDLE_CPUPROFILE for the measured spindle, one file
#                    per run in PROFILE_DIR [a new temp dir, kept], then
#                    pprof -top -cum over all runs merged
#   NODECOUNT [30]   rows of pprof -top
#   MODE=tui only:
#   POLL_MS [100]    kanban.db poll period
#   RUN_TIMEOUT [120] seconds from the pane's start to every card in Review
#   OUT_DIR          keep each run's screens here, the one the board check
#                    read (tui-runN.running.screen) and the last [none]
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
MODE=${MODE:-work}
PROFILE=${PROFILE:-0}
NODECOUNT=${NODECOUNT:-30}
POLL_MS=${POLL_MS:-100}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
OUT_DIR=${OUT_DIR:-}

die() { echo "bench-work: $*" >&2; exit 1; }

[ -f "$BENCH_DIR/sse_server.py" ] || die "no sse_server.py in BENCH_DIR=$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
case $MODE in work | tui) ;; *) die "MODE=$MODE: want work or tui" ;; esac
case $PROFILE in 0 | 1) ;; *) die "PROFILE=$PROFILE: want 0 or 1" ;; esac
for tool in python3 go; do
	command -v "$tool" >/dev/null || die "needs $tool"
done
if [ "$MODE" = tui ]; then
	command -v tmux >/dev/null || die "MODE=tui needs tmux"
fi
for v in WORKERS TOKENS RATE R PORT NODECOUNT POLL_MS RUN_TIMEOUT; do
	case ${!v} in '' | *[!0-9]*) die "$v=${!v}: want a whole number" ;; esac
done
[ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 16 ] || die "WORKERS=$WORKERS: want 1 to 16"
[ "$POLL_MS" -ge 10 ] || die "POLL_MS=$POLL_MS: want at least 10"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-work.XXXXXX")
server_pid=""
# MODE=tui's run in progress: the private tmux server (its socket and PID),
# spindle's PID (and name) in its pane, and the kanban.db poller's PID;
# tui_stop ends them.
tmux_sock="" tmux_pid="" tui_pid="" tui_comm="" poll_pid=""
# alive PID [COMM]: PID is a live process (not a zombie) whose name starts
# with COMM if given (a PID reused by some other process is not ours).
alive() {
	local k v state="" c
	[ -n "$1" ] || return 1
	while read -r k v _; do
		[ "$k" = State: ] && { state=$v; break; }
	done 2>/dev/null <"/proc/$1/status"
	[ -n "$state" ] && [ "$state" != Z ] || return 1
	[ -z "${2:-}" ] && return 0
	read -r c 2>/dev/null <"/proc/$1/comm" || return 1
	case $c in "$2"*) return 0 ;; esac
	return 1
}
# child_named PPID COMM: the PID of PPID's live child whose name starts
# with COMM.
child_named() {
	local f line rest pid
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest=${line##*) } # state ppid ...
		rest=${rest#* }
		[ "${rest%% *}" = "$1" ] || continue
		pid=${f#/proc/}
		pid=${pid%/stat}
		alive "$pid" "$2" && { echo "$pid"; return 0; }
	done
	return 1
}
# tui_stop: the kanban.db poller, spindle (TERM, then KILL after 2 s) and
# the private tmux server, by PID and socket; for every way out of a run and
# of the script.
tui_stop() {
	local i
	if [ -n "$poll_pid" ]; then
		kill "$poll_pid" 2>/dev/null
		wait "$poll_pid" 2>/dev/null
	fi
	if alive "$tui_pid" "$tui_comm"; then
		kill -TERM "$tui_pid" 2>/dev/null
		for i in $(seq 20); do alive "$tui_pid" "$tui_comm" || break; sleep 0.1; done
		alive "$tui_pid" "$tui_comm" && kill -KILL "$tui_pid" 2>/dev/null
	fi
	if [ -n "$tmux_sock" ] && [ -S "$tmux_sock" ]; then
		tmux -S "$tmux_sock" kill-server 2>/dev/null
	fi
	if [ -n "$tmux_pid" ]; then
		for i in $(seq 20); do alive "$tmux_pid" tmux || break; sleep 0.1; done
		alive "$tmux_pid" tmux && kill -KILL "$tmux_pid" 2>/dev/null
	fi
	tmux_sock="" tmux_pid="" tui_pid="" tui_comm="" poll_pid=""
}
cleanup() {
	tui_stop
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
# A signal ends the script through exit, so the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

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

# ---------- CPU profiles (PROFILE=1, either mode) ----------
profile_env=()
if [ "$PROFILE" = 1 ]; then
	PROFILE_DIR=${PROFILE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-work-profiles.XXXXXX")}
	mkdir -p "$PROFILE_DIR" || die "cannot create PROFILE_DIR=$PROFILE_DIR"
fi
# profile_for RUN: sets profile_env to the measured spindle's
# SPINDLE_CPUPROFILE assignment for RUN (none without PROFILE=1).
profile_for() {
	[ "$PROFILE" = 1 ] && profile_env=("SPINDLE_CPUPROFILE=$PROFILE_DIR/$MODE-run$1.pprof")
	return 0
}
# print_profile: pprof -top -cum over every run's profile, merged. spindle
# writes its profile as it exits.
print_profile() {
	local profiles
	[ "$PROFILE" = 1 ] || return 0
	shopt -s nullglob
	profiles=("$PROFILE_DIR"/*.pprof)
	shopt -u nullglob
	[ ${#profiles[@]} -gt 0 ] || die "PROFILE=1 but no profile was written in $PROFILE_DIR"
	echo "bench-work: ${#profiles[@]} profiles in $PROFILE_DIR, merged:"
	echo "--- go tool pprof -top -cum -nodecount=$NODECOUNT"
	go tool pprof -top -cum -nodecount="$NODECOUNT" "$SPINDLE_BIN" "${profiles[@]}" 2>&1
	# The binary may be in $work, removed on exit; keep a copy for pprof.
	cp "$SPINDLE_BIN" "$PROFILE_DIR/spindle" 2>/dev/null
	echo "bench-work: profiles and binary kept in $PROFILE_DIR (go tool pprof -http=: $PROFILE_DIR/spindle $PROFILE_DIR/*.pprof)"
}

# ---------- MODE=tui ----------

# cpu_ticks: "busy total" clock ticks of the whole machine, from /proc/stat.
cpu_ticks() {
	local _cpu user nice sys idle iowait irq softirq steal _rest
	read -r _cpu user nice sys idle iowait irq softirq steal _rest </proc/stat
	echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}
# machine_busy BEFORE AFTER: how busy all cores were in between (everyone's
# processes: tmux, the mock server, this script and the rest of the machine).
machine_busy() {
	local b0 t0 b1 t1
	read -r b0 t0 <<<"$1"
	read -r b1 t1 <<<"$2"
	[ $((t1 - t0)) -gt 0 ] || { echo NA; return; }
	echo "$(((b1 - b0) * 100 / (t1 - t0)))% of $(nproc) cores"
}

# tui_poll_py, run as python3 -c "$tui_poll_py" PID DB T0 SOCK SCREEN
# WORKERS RUN_TIMEOUT POLL_MS: reads DB every POLL_MS until WORKERS cards
# assigned to the agent are in Review, PID is gone, or RUN_TIMEOUT seconds
# have passed since T0 (epoch seconds: the pane's start). Prints key=value
# pairs, status first. CPU (utime+stime of all threads, /proc/PID/stat) and
# memory (/proc/PID/status) are read at the poll that sees the last card in
# Review; running_s and running_cpu_s at the first poll that sees every card
# Running (NA if no poll did). Half a second later, if every card still
# runs, one capture of the pane (tmux socket SOCK, saved in SCREEN) checks
# that the board beside the chat shows them: board=ok, else board=missing
# (board=NA if the cards were not all running for that long, e.g. RATE=0).
# One Python process and one SQLite connection for the whole run: no fork
# per poll to compete with spindle for the cores.
tui_poll_py=$(
	cat <<'PY'
import os, re, sqlite3, subprocess, sys, time

pid, db, t0, sock, screen_file = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
want, timeout, every = int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]) / 1000
tck = os.sysconf("SC_CLK_TCK")

def cpu():
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) / tck, int(rest[12]) / tck  # fields 14, 15: utime, stime

def status():
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = (v.split() or ["NA"])[0]
    return out

def alive():
    try:
        return status().get("State") not in (None, "Z")
    except OSError:
        return False

def board_shows_workers():
    """The wide layout (the chat, a rule, the board) with every card in the
    board's Running column and the status bar counting every worker."""
    screen = subprocess.run(["tmux", "-S", sock, "capture-pane", "-p", "-t", "bench"],
                            capture_output=True, text=True).stdout
    with open(screen_file, "w") as f:
        f.write(screen)
    lines = screen.splitlines()
    return bool(lines) and re.match(r"Chat +│", lines[0]) is not None \
        and f"Running {want} " in lines[0] and f"workers {want}/{want} " in screen

con = sqlite3.connect(db, timeout=1.0, isolation_level=None)
query = "SELECT status, count(*) FROM cards WHERE assignee = 'agent' GROUP BY status"
running = "running_s=NA running_cpu_s=NA"
running_at, board = None, "NA"
polls = 0
due = time.time()
while True:
    try:
        counts = dict(con.execute(query).fetchall())
    except sqlite3.Error:
        counts = {}  # busy for a moment: the next poll tries again
    t = time.time()
    polls += 1
    progress = f"review={counts.get('review', 0)}/{want} running={counts.get('running', 0)}/{want}"
    try:
        if counts.get("review", 0) >= want:
            u, s = cpu()
            st = status()
            wall = t - t0
            print(f"status={'board_missing' if board == 'missing' else 'ok'} wall_s={wall:.3f} "
                  f"cpu_s={u + s:.2f} user_s={u:.2f} sys_s={s:.2f} cpu_pct={100 * (u + s) / wall:.1f} "
                  f"{running} hwm_kb={st['VmHWM']} rss_kb={st['VmRSS']} threads={st['Threads']} "
                  f"polls={polls} board={board}")
            break
        if counts.get("running", 0) >= want:
            if running_at is None:
                u, s = cpu()
                running_at, running = t, f"running_s={t - t0:.3f} running_cpu_s={u + s:.2f}"
            elif board == "NA" and t - running_at >= 0.5:
                board = "ok" if board_shows_workers() else "missing"
    except (OSError, KeyError, IndexError, ValueError):
        pass  # spindle is gone: alive() says so below
    if not alive():
        print(f"status=tui_died after_s={t - t0:.3f} {progress}")
        break
    if t - t0 > timeout:
        print(f"status=timeout after_s={t - t0:.3f} {progress}")
        break
    due += every
    time.sleep(max(0.0, due - time.time()))
PY
)

# tui_run RUN: one run of MODE=tui; sets line to its key=value result and
# returns 1 if it is not ok. Runs in the script's own shell (not a
# subshell), so that cleanup sees the tmux server and spindle it starts.
tui_run() {
	local run=$1 home=$work/tui-run$1 i k
	line="run=$run mode=tui status=failed"
	mkdir -p "$home/.config/spindle"
	# Every card at once, as the headless mode's --max-workers.
	printf 'max_workers = %d\n' "$WORKERS" >"$home/.config/spindle/config.toml"
	local env_run=(env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share"
		XDG_STATE_HOME="$home/.local/state" SPINDLE_HOME="$home/spindle"
		OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy SPINDLE_MODEL=mock-1)
	for i in $(seq "$WORKERS"); do
		"${env_run[@]}" "$SPINDLE_BIN" kanban add --assignee agent "Bench job $i" >/dev/null || die "kanban add failed"
	done
	local before
	before=$(wc -l <"$stats")
	profile_for "$run"

	# A private tmux server whose pane is 120x40 (no status line), started
	# with a placeholder so that tmux's own start is not measured;
	# remain-on-exit keeps the pane after spindle quits.
	printf 'set -g default-terminal "tmux-256color"\nset -g status off\nset -g escape-time 0\nset -g remain-on-exit on\n' >"$home/tmux.conf"
	tmux_sock=$home/tmux.sock
	tmux -S "$tmux_sock" -f "$home/tmux.conf" new-session -d -s bench -x 120 -y 40 -c "$PWD" 'exec sleep 86400' ||
		die "tmux new-session failed"
	tmux_pid=$(tmux -S "$tmux_sock" display -p '#{pid}')
	tui_comm=$(basename "$SPINDLE_BIN" | cut -c1-15)
	local comm=$tui_comm t0=$EPOCHREALTIME
	# The pane runs bash (tmux execs these arguments as they are, no shell
	# parses them), which runs env, which execs spindle, and then writes
	# spindle's exit status to a file: tmux's own #{pane_dead_status} is not
	# reliable (seen empty for a dead pane whose process tmux had not reaped).
	rm -f "$home/exit"
	tmux -S "$tmux_sock" respawn-pane -k -t bench -c "$PWD" -- bash -c 'f=$1; shift; "$@"; echo "$?" >"$f"' bench-pane \
		"$home/exit" "${env_run[@]}" "${profile_env[@]}" "$SPINDLE_BIN" || die "tmux respawn-pane failed"
	local pane_pid
	pane_pid=$(tmux -S "$tmux_sock" display -p -t bench '#{pane_pid}')
	for i in $(seq 500); do
		tui_pid=$(child_named "$pane_pid" "$tui_comm") && break
		sleep 0.01
	done
	[ -n "$tui_pid" ] || die "run $run: no $tui_comm process in the pane after 5 s: $(tmux -S "$tmux_sock" capture-pane -p -t bench)"
	local pane
	pane=$(tmux -S "$tmux_sock" display -p -t bench '#{pane_width}x#{pane_height}')

	local poll status
	python3 -c "$tui_poll_py" "$tui_pid" "$home/spindle/kanban.db" "$t0" "$tmux_sock" "$home/running.screen" \
		"$WORKERS" "$RUN_TIMEOUT" "$POLL_MS" >"$home/poll.out" &
	poll_pid=$!
	# wait, unlike a command substitution, returns at once when a signal
	# comes; its trap then ends the script and cleanup stops the poller.
	wait "$poll_pid"
	poll_pid=""
	poll=$(<"$home/poll.out")
	status=${poll%% *}
	status=${status#status=}
	[ -n "$status" ] || status=poll_failed

	if [ -n "$OUT_DIR" ]; then
		mkdir -p "$OUT_DIR"
		[ -f "$home/running.screen" ] && cp "$home/running.screen" "$OUT_DIR/tui-run$run.running.screen"
		tmux -S "$tmux_sock" capture-pane -p -t bench >"$OUT_DIR/tui-run$run.end.screen" 2>/dev/null
	fi

	# Quit as a person does, Ctrl-C twice on the empty input, and check
	# spindle exits, with status 0.
	local quit_s=NA exit_status=NA tq
	tq=$EPOCHREALTIME
	for k in C-c C-c; do
		alive "$tui_pid" "$tui_comm" || break
		tmux -S "$tmux_sock" send-keys -t bench "$k" 2>/dev/null
		sleep 0.15
	done
	for i in $(seq 100); do
		alive "$tui_pid" "$tui_comm" || break
		sleep 0.05
	done
	if alive "$tui_pid" "$tui_comm"; then
		quit_s=timeout
		[ "$status" = ok ] && status=quit_timeout
	else
		quit_s=$(awk -v a="$tq" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
		# The pane's bash writes the status once it has reaped spindle.
		for i in $(seq 40); do
			[ -s "$home/exit" ] && read -r exit_status <"$home/exit" && break
			sleep 0.05
		done
		[ "$status" = ok ] && [ "$exit_status" != 0 ] && status=exit_$exit_status
	fi
	tui_stop

	# Every worker streamed the whole reply.
	local streamed
	streamed=$(tail -n +"$((before + 1))" "$stats" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
print(sum(1 for r in rows if r["tokens_sent"] == '"$TOKENS"' and not r["aborted"]))')
	[ "$status" = ok ] && [ "$streamed" != "$WORKERS" ] && status=streams_incomplete

	local rest=${poll#* }
	[ "$rest" = "$poll" ] && rest=""
	line="run=$run mode=tui status=$status workers=$WORKERS tokens=$TOKENS rate=$RATE $rest streams=$streamed/$WORKERS quit_s=$quit_s exit=$exit_status pane=$pane comm=$comm"
	[ "$status" = ok ]
}

# tui_median: the medians of the numeric keys of the ok lines on stdin.
tui_median() {
	python3 -c '
import statistics, sys
rows, total = [], 0
for line in sys.stdin:
    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
    total += 1
    if kv.get("status") == "ok":
        rows.append(kv)
out = ["median", f"runs_ok={len(rows)}/{total}"]
for k in ("cpu_s", "user_s", "sys_s", "wall_s", "cpu_pct", "running_s", "running_cpu_s", "hwm_kb", "rss_kb", "threads", "quit_s"):
    try:
        vals = [float(r[k]) for r in rows if k in r]
    except ValueError:
        continue
    if vals:
        m = statistics.median(vals)
        digits = 0 if k.endswith("_kb") or k == "threads" else 1 if k == "cpu_pct" else 2 if "cpu" in k or k in ("user_s", "sys_s") else 3
        out.append(f"{k}={m:.{digits}f}")
print(" ".join(out))'
}

tui_main() {
	local lines=() run ok=0 ticks0
	wait_quiet
	echo "bench-work: MODE=tui WORKERS=$WORKERS TOKENS=$TOKENS RATE=$RATE R=$R PROFILE=$PROFILE; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	ticks0=$(cpu_ticks)
	for run in $(seq "$R"); do
		if tui_run "$run"; then ok=$((ok + 1)); fi
		echo "bench-work: $line"
		lines+=("$line")
	done
	echo "bench-work: $(printf '%s\n' "${lines[@]}" | tui_median) (target for 4 × 2,000 at 200/s, board visible: ≤ 1.5 s CPU in all)"
	echo "bench-work: load after: $(cut -d' ' -f1-3 /proc/loadavg); whole machine busy during the runs: $(machine_busy "$ticks0" "$(cpu_ticks)")"
	print_profile
	[ "$ok" = "$R" ]
}

if [ "$MODE" = tui ]; then
	tui_main
	exit
fi

# ---------- MODE=work (headless) ----------

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
	profile_for "$run"
	read -r user sys rss wall rc < <(measure "${env_run[@]}" "${profile_env[@]}" "$SPINDLE_BIN" work --until-idle --max-workers "$WORKERS")
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
print_profile
