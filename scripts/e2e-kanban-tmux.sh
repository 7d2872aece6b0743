#!/usr/bin/env bash
# End-to-end check of the kanban pane in a real terminal, as a person would
# use it: spindle runs in tmux at 120x40 with a fresh data directory; the
# script creates a card with n, moves it with L twice, edits it with e, and
# reads the row back with the sqlite3 shell (title, status, position). Then
# `spindle kanban add`, run from outside like a second terminal, must show
# its card on the screen within a second or so (one data_version poll).
#
# Needs tmux and sqlite3 (apt-get install -y tmux sqlite3). Run from
# anywhere: bash scripts/e2e-kanban-tmux.sh
set -euo pipefail
cd "$(dirname "$0")/.."

e2e_name=e2e-kanban
. scripts/lib-e2e.sh
e2e_require tmux sqlite3
sock="spindle-e2e-kanban-$$"
session=e2e
# A private world: data, config, state and logs all under $work; no
# endpoint, so spindle uses its offline demo model.
e2e_world
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
db="$SPINDLE_HOME/kanban.db"
e2e_dump() {
	echo "--- log ---"
	find "$work" -name '*.log' -exec tail -n 20 {} + 2>/dev/null
}
sql() { sqlite3 -batch -noheader "$db" "$1"; }
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
# The card's dense position is computed the way the store computes it:
# the number of cards before it in its column, by (rank, id).
row_query() {
	echo "SELECT c.title || '|' || c.status || '|' || (SELECT count(*) FROM cards o WHERE o.status = c.status AND (o.rank < c.rank OR (o.rank = c.rank AND o.id < c.id))) FROM cards c WHERE c.title LIKE '$1%';"
}

tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 -s "$session" "$work/spindle"
wait_screen "To do" 10

echo "e2e-kanban: focus the board, create a card with n"
keys Tab
keys n
wait_screen "New card · To do"
keys -l "E2E card"
keys Enter
keys -l "made in tmux"
keys C-s
wait_screen "E2E card"
wait_sql "$(row_query 'E2E card')" "E2E card|todo|0"

echo "e2e-kanban: move it with L twice"
keys L
wait_sql "$(row_query 'E2E card')" "E2E card|running|0"
keys L
wait_sql "$(row_query 'E2E card')" "E2E card|blocked|0"
wait_screen "Blocked 1"

echo "e2e-kanban: edit it with e"
keys e
wait_screen "Edit card #"
keys C-u
keys -l "E2E card edited"
keys C-s
# The form's own title input shows the new title before the save, so the
# screen alone cannot tell that the write has committed: wait for the row.
wait_screen "Blocked 1"
wait_sql "$(row_query 'E2E card')" "E2E card edited|blocked|0"
got=$(sql "$(row_query 'E2E card')")
body=$(sql "SELECT body FROM cards WHERE title = 'E2E card edited';")
[ "$body" = "made in tmux" ] || fail "body is \"$body\""
echo "e2e-kanban: kanban.db row: $got"

echo "e2e-kanban: a card added from outside appears"
keys h
keys h
wait_screen "To do 0"
start=$(now_ns)
"$work/spindle" kanban add "Outside card" >/dev/null || fail "spindle kanban add failed"
wait_screen "Outside card" 3
ms=$((($(now_ns) - start) / 1000000))
echo "e2e-kanban: the outside card was on screen after ${ms} ms"
# One poll period is 1 s; allow for the add itself and a loaded machine.
[ "$ms" -le 1500 ] || fail "the outside card took ${ms} ms to appear (want about 1 s)"

keys C-c
keys C-c
echo "e2e-kanban: PASS"
