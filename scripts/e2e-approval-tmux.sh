#!/usr/bin/env bash
# End-to-end check of tool approvals in a real terminal: spindle runs in
# tmux at 120x40 in a private project directory, with the offline demo
# model, whose "run …" calls bash. Asked to run `echo hello > proof.txt`:
#   n (deny)             no file, and the model is told it was denied;
#   y (allow once)       the file appears; the next identical call asks again;
#   s (allow for session) it runs, and in the same session it no longer asks,
#                        but in a new session (/new) it does;
#   a (always)           survives a restart of spindle, and /permissions remove
#                        takes it back, so the call asks again.
# Then the project's rules file, edited while spindle runs, decides the next
# call without a restart; and a command of two lines (typed with ctrl+j) is
# shown as two numbered lines under a "2 lines" mark, never as one line: n
# runs neither line, y runs both, s is listed by /permissions as "(this
# session)" and /permissions remove revokes it.
# The answers are read from state.db too (messages.approval).
#
# Needs tmux and sqlite3. Run from anywhere: bash scripts/e2e-approval-tmux.sh
set -euo pipefail
cd "$(dirname "$0")/.."

e2e_name=e2e-approval
. scripts/lib-e2e.sh
e2e_require tmux sqlite3
sock="spindle-e2e-approval-$$"
session=e2e
e2e_world
project="$work/project"
mkdir -p "$project"
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
e2e_dump() {
	echo "--- log ---"
	find "$work" -name '*.log' -exec tail -n 20 {} + 2>/dev/null
}
proof="$project/proof.txt"
sql() { sqlite3 -batch -noheader "$SPINDLE_HOME/state.db" "$1"; }

start_spindle() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	# A server still exiting (spindle just quit) takes a new client down
	# with it ("server exited unexpectedly"): wait until it is gone, and
	# try once more if the start still raced it.
	for _ in $(seq 1 100); do tmux -L "$sock" list-sessions >/dev/null 2>&1 || break; sleep 0.05; done
	tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 -s "$session" "$work/spindle --cwd $project" ||
		{ sleep 0.5; tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 -s "$session" "$work/spindle --cwd $project"; }
	wait_screen "Ask a question" 10
}

# ask: type the request and wait for the dialog.
ask() {
	keys -l "run echo hello > proof.txt"
	keys Enter
	wait_screen "Allow bash?" 10
	wait_screen "y allow once" 3 # armed
}

# ran_without_asking: the reply came and no dialog was shown.
wait_reply() { wait_screen "${1:-exited with status 0}" 10; }

start_spindle

echo "e2e-approval: n denies: no file, the model is told"
ask
keys n
wait_screen "nothing ran" 10
[ ! -e "$proof" ] || fail "a denied command ran"
[ "$(sql "SELECT approval FROM messages WHERE role='tool' ORDER BY id DESC LIMIT 1;")" = "denied by you" ] || fail "state.db: $(sql "SELECT approval FROM messages WHERE role='tool';")"

echo "e2e-approval: y allows once"
ask
keys y
wait_reply
[ -e "$proof" ] || fail "allow once did not run the command"
rm -f "$proof"
ask # once means once
keys n
wait_screen "nothing ran" 10

echo "e2e-approval: s allows for the session, not for a new one"
ask
keys s
wait_reply
rm -f "$proof"
keys -l "run echo hello > proof.txt"
keys Enter
for _ in $(seq 1 100); do [ -e "$proof" ] && break; sleep 0.05; done
[ -e "$proof" ] || fail "the session grant did not run the command"
screen | grep -qF "Allow bash?" && fail "asked again in the same session"
rm -f "$proof"
keys -l "/new"
keys Enter
ask
keys n
wait_screen "nothing ran" 10

echo "e2e-approval: a (always) survives a restart and can be removed"
ask
keys a
wait_reply
rm -f "$proof"
keys C-c
keys C-c
start_spindle
keys -l "run echo hello > proof.txt"
keys Enter
for _ in $(seq 1 100); do [ -e "$proof" ] && break; sleep 0.05; done
[ -e "$proof" ] || fail "the saved rule did not run the command after a restart"
rm -f "$proof"
keys -l "/permissions"
keys Enter
wait_screen "bash:=echo hello > proof.txt" 5
keys -l "/permissions remove bash:=echo hello > proof.txt"
keys Enter
wait_screen "Removed the rule" 5
ask
keys n
wait_screen "nothing ran" 10
[ ! -e "$proof" ] || fail "the removed rule still allowed the command"

echo "e2e-approval: an edit of the rules file applies without a restart"
rules=$(ls "$XDG_CONFIG_HOME"/spindle/projects/*.toml)
[ -f "$rules" ] || fail "no project rules file under $XDG_CONFIG_HOME/spindle/projects"
printf "allow = ['bash:=echo hello > proof.txt']\n" >"$rules"
keys -l "run echo hello > proof.txt"
keys Enter
for _ in $(seq 1 100); do [ -e "$proof" ] && break; sleep 0.05; done
[ -e "$proof" ] || fail "the rule written into $rules did not run the command"
screen | grep -qF "Allow bash?" && fail "asked although the edited rules file allows it"
rm -f "$proof"
printf "allow = []\n" >"$rules"

echo "e2e-approval: a command of two lines is shown as two lines"
multi="$project/multi.txt"
# ask_multi: type "run echo safe", ctrl+j, "touch multi.txt", and wait for
# the dialog with both lines numbered.
ask_multi() {
	keys -l "run echo safe"
	keys C-j
	keys -l "touch multi.txt"
	keys Enter
	wait_screen "Allow bash?   2 lines" 10
	wait_screen "1 │ echo safe" 3
	wait_screen "2 │ touch multi.txt" 3
	wait_screen "y allow once" 3 # armed
	screen | grep -qF "echo safe touch multi.txt" && fail "the dialog folded the two lines into one"
	return 0
}
ask_multi
keys n
wait_screen "nothing ran" 10
[ ! -e "$multi" ] || fail "a denied two-line command ran"
ask_multi
keys y
wait_reply
[ -e "$multi" ] || fail "allow once did not run the second line"
rm -f "$multi"
ask_multi
keys s
wait_reply
rm -f "$multi"
keys -l "/permissions"
keys Enter
wait_screen "bash:=echo safe␊touch multi.txt  (this session)" 5
keys -l "/permissions remove bash:=echo safe␊touch multi.txt"
keys Enter
wait_screen "Revoked the grant for this session" 5
ask_multi
keys n
wait_screen "nothing ran" 10
[ ! -e "$multi" ] || fail "the revoked grant still ran the command"

keys C-c
keys C-c
echo "e2e-approval: PASS"
