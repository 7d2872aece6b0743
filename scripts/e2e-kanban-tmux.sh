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

for tool in tmux sqlite3 go; do
	command -v "$tool" >/dev/null || { echo "e2e-kanban: needs $tool (apt-get install -y tmux sqlite3)" >&2; exit 1; }
done

export GOTOOLCHAIN=local
work=$(mktemp -d)
sock="spindle-e2e-kanban-$$"
session=e2e
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/spindle" .

# A private world: data, config, state and logs all under $work; no
# endpoint, so spindle uses its offline demo model.
export SPINDLE_HOME="$work/data"
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" XDG_DATA_HOME="$work/xdg-data" XDG_CACHE_HOME="$work/cache"
mkdir -p "$SPINDLE_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
unset OPENAI_BASE_URL OPENAI_API_KEY SPINDLE_MODEL
export TERM=xterm-256color
db="$SPINDLE_HOME/kanban.db"

screen() { tmux -L "$sock" capture-pane -p -t "$session"; }
keys() { tmux -L "$sock" send-keys -t "$session" "$@"; }
fail() {
	echo "e2e-kanban: FAIL: $*" >&2
	echo "--- screen ---" >&2
	screen >&2 || true
	echo "--- log ---" >&2
	find "$work" -name '*.log' -exec tail -n 20 {} + >&2 2>/dev/null || true
	exit 1
}
# wait_screen PATTERN SECONDS: until the screen shows the fixed string.
wait_screen() {
	local deadline=$(($(date +%s%N) + ${2:-5} * 1000000000))
	while ! screen | grep -qF -- "$1"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || fail "screen never showed \"$1\""
		sleep 0.05
	done
}
sql() { sqlite3 -batch -noheader "$db" "$1"; }
# wait_sql QUERY WANT SECONDS: until the query prints WANT.
wait_sql() {
	local deadline=$(($(date +%s%N) + ${3:-5} * 1000000000)) got=""
	while :; do
		got=$(sql "$1" 2>/dev/null || true)
		[ "$got" = "$2" ] && return 0
		[ "$(date +%s%N)" -lt "$deadline" ] || fail "kanban.db: $1 → \"$got\", want \"$2\""
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
start=$(date +%s%N)
"$work/spindle" kanban add "Outside card" >/dev/null || fail "spindle kanban add failed"
wait_screen "Outside card" 3
ms=$((($(date +%s%N) - start) / 1000000))
echo "e2e-kanban: the outside card was on screen after ${ms} ms"
# One poll period is 1 s; allow for the add itself and a loaded machine.
[ "$ms" -le 1500 ] || fail "the outside card took ${ms} ms to appear (want about 1 s)"

keys C-c
keys C-c
echo "e2e-kanban: PASS"
