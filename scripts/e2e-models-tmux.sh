#!/usr/bin/env bash
# End-to-end check of the model picker in a real terminal: spindle runs in
# tmux at 120x40 against two loopback OpenAI-compatible servers
# (scripts/e2e-models-server.py, Python's standard library only), each of
# which logs the "model" of every chat request it gets:
#   main  the start-up endpoint (config.toml's base_url, model alpha-1),
#         listing alpha-1, beta-2 and gamma-3;
#   side  a named endpoint ([endpoints.side]), listing delta-4 and epsilon-5.
# It checks that
#   - /model and the command palette (ctrl+p) open the picker, which lists
#     main's three models with the one in use marked;
#   - choosing beta-2 makes the next request ask main for beta-2, and the
#     status bar names it;
#   - Tab in the picker shows side's models; choosing epsilon-5 sends the
#     next request to side (main gets nothing), and the status bar says
#     "side · epsilon-5";
#   - the session remembers it: /sessions and state.db show it, and after a
#     restart (which starts on the configured alpha-1) reopening the session
#     from /sessions uses side · epsilon-5 again, at the server too.
# The checks that read the servers' logs and the status bar are shown to
# fail on a log with no request, on another model and on another label.
#
# Needs tmux, sqlite3 and python3. Run from anywhere:
# bash scripts/e2e-models-tmux.sh
set -euo pipefail
cd "$(dirname "$0")/.."

e2e_name=e2e-models
. scripts/lib-e2e.sh
e2e_require tmux sqlite3 python3
sock="spindle-e2e-models-$$"
session=e2e
e2e_world
servers=()
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	# A server that exited with its last session leaves its socket file.
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"
	local pid
	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
e2e_dump() {
	echo "--- main server's models ---"
	cat "$work/main.models" 2>/dev/null
	echo "--- side server's models ---"
	cat "$work/side.models" 2>/dev/null
	echo "--- log ---"
	tail -n 20 "$XDG_STATE_HOME/spindle/spindle.log" 2>/dev/null
}
sql() { sqlite3 -batch -noheader "$SPINDLE_HOME/state.db" "$1"; }

# start_server NAME MODEL...: a server on a free loopback port, its port in
# $work/NAME.port, every chat request's model appended to $work/NAME.models.
start_server() {
	local name=$1
	shift
	: >"$work/$name.models"
	python3 scripts/e2e-models-server.py --name "$name" --log "$work/$name.models" \
		--port-file "$work/$name.port" "$@" 2>"$work/$name.err" &
	servers+=($!)
	local deadline=$(($(now_ns) + 10 * 1000000000))
	while [ ! -s "$work/$name.port" ]; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "the $name server never listened: $(cat "$work/$name.err")"
		sleep 0.05
	done
}

start_server main alpha-1 beta-2 gamma-3
start_server side delta-4 epsilon-5
main_port=$(cat "$work/main.port")
side_port=$(cat "$work/side.port")
mkdir -p "$XDG_CONFIG_HOME/spindle"
cat >"$XDG_CONFIG_HOME/spindle/config.toml" <<EOF
base_url = "http://127.0.0.1:$main_port/v1"
model = "alpha-1"
theme = "dark"

[endpoints.side]
base_url = "http://127.0.0.1:$side_port/v1"
EOF

# served SERVER COUNT MODEL: SERVER has had exactly COUNT chat requests and
# the last asked for MODEL. It returns non-zero rather than failing, so
# that the negative controls can show it trips.
served() {
	local log="$work/$1.models"
	[ "$(wc -l <"$log")" -eq "$2" ] && [ "$(tail -n 1 "$log")" = "$3" ]
}
expect_served() {
	served "$@" || fail "the $1 server should have had $2 chat request(s), the last for $3; it had: $(tr '\n' ' ' <"$work/$1.models")"
}

# status_names LABEL: the status bar begins with the model label.
status_names() { [[ "$(screen | tail -n 1)" == " $1  "* ]]; }
wait_status() {
	local deadline=$(($(now_ns) + ${2:-5} * 1000000000))
	while ! status_names "$1"; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "the status bar never named \"$1\""
		sleep 0.05
	done
}

# wait_gone TEXT: until the screen no longer shows the fixed string (a
# dialog has closed).
wait_gone() {
	local deadline=$(($(now_ns) + 5 * 1000000000))
	while screen | grep -qF -- "$1"; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "the screen still shows \"$1\""
		sleep 0.05
	done
}

# picker_marks MODEL: the picker's one "● in use" row is MODEL's.
picker_marks() {
	local rows
	rows=$(screen | grep -F "● in use" || true)
	[ "$(printf '%s' "$rows" | grep -c '')" -eq 1 ] && [[ "$rows" == "› $1 "* || "$rows" == "  $1 "* ]]
}
# picker_lists MODEL...: the picker shows a row for each.
picker_lists() {
	local name
	for name in "$@"; do
		screen | grep -qE "^(› |  )$name( |$)" || fail "the picker does not list $name"
	done
}

start_spindle() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 -s "$session" "$work/spindle"
	wait_screen "Ask a question" 10
}

# quit: Ctrl-C twice, and wait until spindle (and so the tmux session) is gone.
quit() {
	local deadline=$(($(now_ns) + 10 * 1000000000))
	keys C-c
	wait_screen "press Ctrl-C again to quit" 5
	keys C-c
	while tmux -L "$sock" has-session -t "$session" 2>/dev/null; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "spindle did not quit"
		sleep 0.05
	done
}

# send TEXT REPLY: type TEXT, press Enter, and wait for REPLY.
send() {
	keys -l "$1"
	keys Enter
	wait_screen "$2" 10
}

start_spindle
wait_status alpha-1

echo "e2e-models: /model lists the models, the one in use marked"
keys -l "/model"
keys Enter
wait_screen "Model  in use: alpha-1" 5
wait_screen "gamma-3" 5
picker_lists alpha-1 beta-2 gamma-3
picker_marks alpha-1 || fail "the picker does not mark alpha-1 as in use"
! picker_marks beta-2 || fail "negative control: picker_marks took beta-2 for the model in use"
screen | grep -qF "127.0.0.1:$main_port · tab switches" || fail "the picker does not say where the endpoint is"
keys Escape
wait_gone "Model  in use"

echo "e2e-models: the palette opens it too; beta-2 is chosen"
keys C-p
wait_screen "type to find a command" 5
keys -l "model"
wait_screen "/model [NAME]" 5
keys Enter
wait_screen "Model  in use: alpha-1" 5
wait_screen "gamma-3" 5
picker_marks alpha-1 || fail "the picker from the palette does not mark alpha-1"
keys Down
keys Enter
wait_screen "Model set to beta-2" 5
wait_status beta-2
! status_names alpha-1 || fail "negative control: status_names took the bar for alpha-1's"

# Nothing has been asked yet: the log check must say so.
! served main 1 beta-2 || fail "negative control: served saw a request that was never made"
send "which model are you" "Reply #1 from beta-2 at main."
expect_served main 1 beta-2
! served main 1 gamma-3 || fail "negative control: served took beta-2's request for gamma-3's"
! served main 1 alpha-1 || fail "negative control: served took beta-2's request for alpha-1's"
wait_status beta-2

echo "e2e-models: tab shows the side endpoint; epsilon-5 there gets the next request"
keys -l "/model"
keys Enter
wait_screen "Model  in use: beta-2" 5
wait_screen "gamma-3" 5
picker_marks beta-2 || fail "the picker does not mark beta-2 as in use"
keys Tab
wait_screen "127.0.0.1:$side_port · tab switches" 5
wait_screen "epsilon-5" 5
picker_lists delta-4 epsilon-5
screen | grep -qF "● in use" && fail "the side endpoint's list marks a model in use, but main's is in use"
keys Down
keys Enter
wait_screen "Model set to side · epsilon-5" 5
wait_status "side · epsilon-5"
send "and now" "Reply #1 from epsilon-5 at side."
expect_served side 1 epsilon-5
expect_served main 1 beta-2 # nothing more went to main

echo "e2e-models: the session remembers it"
[ "$(sql "SELECT endpoint || ' ' || model FROM sessions WHERE id = 1;")" = "side epsilon-5" ] ||
	fail "state.db: session 1 is $(sql "SELECT endpoint, model FROM sessions;")"
keys -l "/sessions"
keys Enter
wait_screen "side/epsilon-5" 5
wait_screen "model epsilon-5 at side" 5
keys Escape
wait_gone "search titles and messages"
quit

echo "e2e-models: after a restart, reopening the session uses side · epsilon-5 again"
start_spindle
wait_status alpha-1 # the configured model, until a session says otherwise
keys -l "/sessions"
keys Enter
wait_screen "side/epsilon-5" 5
keys Enter
wait_screen "Using side · epsilon-5 again, as this session did." 5
wait_status "side · epsilon-5"
send "still there" "Reply #2 from epsilon-5 at side."
expect_served side 2 epsilon-5
expect_served main 1 beta-2
keys -l "/model"
keys Enter
wait_screen "Model  in use: side · epsilon-5" 5
wait_screen "● in use" 5
picker_marks epsilon-5 || fail "after the restart the picker does not mark epsilon-5 as in use"
keys Escape
wait_gone "Model  in use"
quit

echo "e2e-models: PASS"
