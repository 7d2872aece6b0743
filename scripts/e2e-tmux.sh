#!/usr/bin/env bash
# End-to-end check of the chat and its interrupt path in a real terminal, as
# a person would use it: spindle runs in tmux at 120x40 against the offline
# demo model, with every directory in a temporary one. The script types a
# question, presses Ctrl-C while the reply streams, and checks
#   - the screen: the reply is marked interrupted, the status bar says so;
#   - the log: the stranger abort line (deferred_close=stranger_thread) and
#     the owner's close line;
#   - state.db (sqlite3 shell): the partial reply saved as interrupted;
# then quits with Ctrl-C twice and checks the exit status and that the
# terminal left the alternate screen. A second run (--continue) shows the
# interrupted reply again and takes a real SIGINT (kill -INT) mid-stream
# through the same path.
#
# Needs tmux and sqlite3 (installed with apt-get when missing and running as
# root). Run from anywhere: bash scripts/e2e-tmux.sh
set -euo pipefail
cd "$(dirname "$0")/.."

e2e_name=e2e-tmux
. scripts/lib-e2e.sh
e2e_require tmux sqlite3
run=0
sock="spindle-e2e-chat-$$-$run"
session=e2e
e2e_world
cleanup() {
	for i in $(seq 0 "$run"); do
		tmux -L "spindle-e2e-chat-$$-$i" kill-server 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
log="$XDG_STATE_HOME/spindle/spindle.log"
statedb="$SPINDLE_HOME/state.db"
e2e_dump() {
	echo "--- log (last 20 lines) ---"
	tail -n 20 "$log" 2>/dev/null
}
# wait_file FILE SECONDS: until FILE exists.
wait_file() {
	local deadline=$(($(now_ns) + ${2:-5} * 1000000000))
	while [ ! -s "$1" ]; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "$1 never appeared"
		sleep 0.05
	done
}
sql() { sqlite3 -batch -noheader "$statedb" "$1"; }

# start ARGS: run spindle in a fresh tmux server; its pid goes to
# $work/pid, its exit status to $work/exit. The pane stays open after it
# exits so the restored screen can be read.
start() {
	rm -f "$work/pid" "$work/exit"
	# A fresh tmux server per run: reusing a socket right after
	# kill-server races with the old server's exit.
	tmux -L "$sock" kill-server 2>/dev/null || true
	run=$((run + 1))
	sock="spindle-e2e-chat-$$-$run"
	tmux -L "$sock" new-session -d -s "$session" -x 120 -y 40 \
		"sh -c 'echo \$\$ > $work/pid; exec $work/spindle $*'; echo \$? > $work/exit; echo SPINDLE-EXITED; sleep 600"
	# Generous deadlines: the loops return as soon as the screen is there,
	# and a loaded 2-core CI machine can take seconds to start a process.
	wait_file "$work/pid" 30
	wait_screen "demo model (offline)" 30
}

# quit_again CMD...: CMD (a Ctrl-C or a SIGINT) once more, after one armed
# quitting, and wait for the exit. The second must come within two seconds
# of the first; if the machine was too slow for that, the window closes with
# the program still up (its screen back to idle): arm and quit once more.
# Nothing is sent once the program has left the alternate screen.
quit_again() {
	local deadline=$(($(now_ns) + 30 * 1000000000))
	"$@"
	# Until the press has been taken: it quit, or (too late) it re-armed.
	while [ ! -s "$work/exit" ] && ! screen | grep -qF "press Ctrl-C again to quit"; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "a second $* was never taken"
		sleep 0.05
	done
	while [ ! -s "$work/exit" ]; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "a second $* never quit"
		local s
		s=$(screen)
		if grep -qF "demo model (offline)" <<<"$s" && ! grep -qF "press Ctrl-C again to quit" <<<"$s"; then
			echo "e2e-tmux:    (the quit window closed before the second $1; again)"
			"$@"
			wait_screen "press Ctrl-C again to quit" 10
			"$@"
		fi
		sleep 0.05
	done
}

echo "e2e-tmux: 1. Ctrl-C mid-stream"
start
screen | grep -qF "Chat" || fail "no chat pane"
# The board is loaded after the first frame.
wait_screen "To do" 30 # the kanban pane beside the chat at 120 columns
screen | grep -qF "press enter" || fail "an empty chat does not say what to do"
keys "Explain how streaming works"
wait_screen "› Explain how streaming works" 15
keys Enter
wait_screen "streaming" 30
# Let some text arrive (the rate shows after 0.2 s of text), then interrupt
# while it still streams: the demo reply takes several seconds.
wait_screen "tok/s" 30
sleep 1
screen | grep -qF "streaming" || fail "the reply finished before Ctrl-C could interrupt it"
t0=$(now_ns)
keys C-c
wait_screen "⏸ interrupted" 2
t1=$(now_ns)
echo "e2e-tmux:    marked interrupted on screen $(((t1 - t0) / 1000000)) ms after Ctrl-C (tmux round trips included)"
wait_screen " interrupted " 2 # the status bar's state
grep -qF "deferred_close=stranger_thread" "$log" || fail "no stranger abort line in the log"
grep -F "OpenAI client aborted (interrupt_abort" "$log" | grep -qF "thread=stranger" || fail "abort line lacks thread=stranger"
grep -qF "OpenAI client closed (interrupt_abort" "$log" || fail "no owner close line in the log"
status=$(sql "select status from messages where role='assistant' order by id desc limit 1")
[ "$status" = interrupted ] || fail "state.db: last assistant message status is '$status', want interrupted"
saved=$(sql "select length(content) from messages where role='assistant' order by id desc limit 1")
[ "$saved" -gt 0 ] || fail "state.db: the partial reply was not saved"

# Idle: Ctrl-C arms, a second Ctrl-C quits; the terminal is restored.
keys C-c
wait_screen "press Ctrl-C again to quit" 2
[ ! -s "$work/exit" ] || fail "one Ctrl-C when idle ended the program"
quit_again keys C-c
[ "$(cat "$work/exit")" = 0 ] || fail "spindle exited with status $(cat "$work/exit")"
wait_screen "SPINDLE-EXITED" 10
screen | grep -qF "demo model (offline)" && fail "the alternate screen was not left on exit"

echo "e2e-tmux: 2. --continue, then a real SIGINT mid-stream"
start --continue
wait_screen "⏸ interrupted" 30
keys "Tell me more about streaming"
wait_screen "› Tell me more about streaming" 15
keys Enter
wait_screen "tok/s" 30
aborts=$(grep -cF "deferred_close=stranger_thread" "$log")
kill -INT "$(cat "$work/pid")"
wait_screen " interrupted " 3
[ "$(grep -cF "deferred_close=stranger_thread" "$log")" -gt "$aborts" ] || fail "SIGINT did not take the stranger abort path"
[ ! -s "$work/exit" ] || fail "SIGINT during a stream ended the program"
n=$(sql "select count(*) from messages where role='assistant' and status='interrupted'")
[ "$n" -ge 2 ] || fail "state.db: $n interrupted replies, want 2"
# SIGINT when idle arms quitting like Ctrl-C; a second one quits cleanly.
kill -INT "$(cat "$work/pid")"
wait_screen "press Ctrl-C again to quit" 2
[ ! -s "$work/exit" ] || fail "one SIGINT when idle ended the program"
quit_again kill -INT "$(cat "$work/pid")"
[ "$(cat "$work/exit")" = 0 ] || fail "spindle exited with status $(cat "$work/exit") after SIGINT"

echo "e2e-tmux: 3. the terminal goes away mid-stream (tmux kill-session: SIGHUP)"
start --continue
keys "Write a long essay"
wait_screen "› Write a long essay" 15
keys Enter
wait_screen "tok/s" 30
pid=$(cat "$work/pid")
before=$(sql "select count(*) from messages where role='assistant'")
tmux -L "$sock" kill-session -t "$session"
deadline=$(($(now_ns) + 10 * 1000000000))
while kill -0 "$pid" 2>/dev/null; do
	[ "$(now_ns)" -lt "$deadline" ] || fail "spindle still runs 10 s after its terminal went away"
	sleep 0.05
done
after=$(sql "select count(*) from messages where role='assistant'")
[ "$after" -gt "$before" ] || fail "state.db: the reply cut by the hangup was not saved"
status=$(sql "select status from messages where role='assistant' order by id desc limit 1")
[ "$status" = interrupted ] || fail "state.db: the reply cut by the hangup has status '$status', want interrupted"
saved=$(sql "select length(content) from messages where role='assistant' order by id desc limit 1")
[ "$saved" -gt 0 ] || fail "state.db: the hangup lost the partial reply"
echo "e2e-tmux:    saved as interrupted with $saved bytes"

echo "e2e-tmux: PASS"
