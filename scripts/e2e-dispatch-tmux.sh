#!/usr/bin/env bash
# End-to-end check of the dispatcher in a real terminal: spindle runs in
# tmux at 120x40 with the offline demo model. A card assigned to the agent
# (added from outside with spindle kanban add --assignee agent) goes Running
# on screen, then Review. A second one, stopped with x while it runs, shows
# Blocked within 100 ms of the key (plus tmux's round trips), and the
# stranger abort line is in spindle logs.
#
# Needs tmux and sqlite3. Run from anywhere: bash scripts/e2e-dispatch-tmux.sh
set -euo pipefail
cd "$(dirname "$0")/.."

e2e_name=e2e-dispatch
. scripts/lib-e2e.sh
e2e_require tmux sqlite3
sock="spindle-e2e-dispatch-$$"
session=e2e
e2e_world
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
e2e_dump() {
	echo "--- log ---"
	find "$work" -name '*.log' -exec tail -n 30 {} + 2>/dev/null
}
sql() { sqlite3 -batch -noheader "$SPINDLE_HOME/kanban.db" "$1"; }
# wait_sql QUERY WANT SECONDS: until the query prints WANT.
wait_sql() {
	local deadline=$(($(now_ns) + ${3:-5} * 1000000000)) got=""
	while :; do
		got=$(sql "$1" 2>/dev/null || true)
		[ "$got" = "$2" ] && return 0
		[ "$(now_ns)" -lt "$deadline" ] || fail "kanban.db: $1 → \"$got\", want \"$2\""
		sleep 0.05
	done
}

tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 -s "$session" "$work/spindle"
wait_screen "To do" 10
wait_screen "workers 0/2" 5

echo "e2e-dispatch: a card assigned to the agent goes Running, then Review"
"$work/spindle" kanban add "Summarise the README" --assignee agent >/dev/null
wait_screen "Running 1" 5
wait_sql "SELECT status FROM cards WHERE id = 1;" review 20
# The board at 120 columns shows two columns at a time: walk right until
# Review is in view.
keys Tab
for _ in 1 2 3 4; do screen | grep -qF "Review 1" && break; keys l; sleep 0.1; done
wait_screen "Review 1" 3
keys Tab
[ "$(sql "SELECT outcome FROM runs WHERE card_id = 1;")" = "review" ] || fail "run: $(sql 'SELECT * FROM runs;')"

echo "e2e-dispatch: x on a running card shows it Blocked"
keys Tab
keys h h h h
"$work/spindle" kanban add "A long job" --assignee agent >/dev/null
wait_screen "Running 1" 5
# Select the running card: from To do, one column right.
keys l
wait_screen "▌ A long job" 5
start=$(now_ns)
keys x
wait_screen "Blocked 1" 3
ms=$((($(now_ns) - start) / 1000000))
echo "e2e-dispatch: Blocked on screen ${ms} ms after x (tmux round trips included)"
[ "$ms" -le 500 ] || fail "Blocked took ${ms} ms to show"
[ "$(sql "SELECT outcome FROM runs WHERE card_id = 2;")" = "stopped" ] || fail "run: $(sql 'SELECT * FROM runs;')"
"$work/spindle" logs -n 200 | grep -q "deferred_close=stranger_thread" || fail "no stranger abort line in spindle logs"

echo "e2e-dispatch: quitting while a card runs puts it back in To do"
"$work/spindle" kanban add "Third card" --assignee agent >/dev/null
wait_screen "Running 1" 5
keys C-c
keys C-c
for _ in $(seq 1 100); do
	tmux -L "$sock" has-session -t "$session" 2>/dev/null || break
	sleep 0.05
done
[ "$(sql "SELECT status FROM cards WHERE id = 3;")" = "todo" ] || fail "card 3 after quitting: $(sql 'SELECT id, status FROM cards;')"
[ "$(sql "SELECT count(*) FROM claims;")" = "0" ] || fail "claims left after quitting"
echo "e2e-dispatch: PASS"
