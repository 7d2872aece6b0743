# Shared by the scripts/e2e-*.sh checks; source it, do not run it. It gives
# each script a private world (every directory spindle uses under one
# temporary $work, no endpoint, so the offline demo model answers), a
# spindle binary built from this tree, and the tmux helpers they drive it
# with. A script sets $e2e_name, then $sock and $session before it starts
# tmux, and may define e2e_dump to print more when it fails.

# e2e_require TOOL...: install missing tools with apt-get when root, else
# say which are missing and exit.
e2e_require() {
	local need=() tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || need+=("$tool")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	else
		echo "$e2e_name: needs ${need[*]} (apt-get install -y ${need[*]})" >&2
		exit 1
	fi
}

# e2e_world: $work, $work/spindle, and the environment that keeps data,
# config, state and logs under $work.
e2e_world() {
	export GOTOOLCHAIN=local
	work=$(mktemp -d)
	go build -o "$work/spindle" .
	export SPINDLE_HOME="$work/data"
	export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" XDG_DATA_HOME="$work/xdg-data" XDG_CACHE_HOME="$work/cache"
	mkdir -p "$SPINDLE_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
	unset OPENAI_BASE_URL OPENAI_API_KEY SPINDLE_MODEL
	export TERM=xterm-256color
}

screen() { tmux -L "$sock" capture-pane -p -t "$session"; }
keys() { tmux -L "$sock" send-keys -t "$session" "$@"; }
now_ns() { date +%s%N; }

# fail MESSAGE: print it, the screen and what e2e_dump adds, and exit 1.
fail() {
	echo "$e2e_name: FAIL: $*" >&2
	echo "--- screen ---" >&2
	screen >&2 || true
	if declare -F e2e_dump >/dev/null; then e2e_dump >&2 || true; fi
	exit 1
}

# wait_screen TEXT SECONDS: until the screen shows the fixed string.
wait_screen() {
	local deadline=$(($(now_ns) + ${2:-5} * 1000000000))
	while ! screen | grep -qF -- "$1"; do
		[ "$(now_ns)" -lt "$deadline" ] || fail "screen never showed \"$1\""
		sleep 0.05
	done
}
