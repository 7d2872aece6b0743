#!/usr/bin/env bash
# vhs/record.sh: install what VHS needs, build spindle, record every tape in
# vhs/ against the offline demo model, and check the screen transcripts.
#
#   vhs/record.sh               install (skipping what is present), record every
#                               tape into a temporary directory, and fail if a
#                               normalised transcript differs from the committed
#                               one; the repository is left untouched
#   vhs/record.sh --update      the same, then copy the new GIFs and transcripts
#                               into vhs/ (accepts changed transcripts)
#   vhs/record.sh --validate    only install vhs and run `vhs validate` on every
#                               tape (no chromium, ffmpeg or ttyd needed)
#   vhs/record.sh --install     only install the tools
#   vhs/record.sh --normalize vhs/NAME.txt [TAPE]   print it as it is compared
#   vhs/record.sh [--update] NAME...   record only these tapes (chat, kanban, ...)
#
# Runs on Debian as root (or with sudo). See vhs/README.md for what is
# installed and how transcripts are normalised.
set -euo pipefail

VHS_VERSION=v0.10.0
TTYD_MIN=1.7.2
APT_PACKAGES=(ffmpeg chromium fonts-dejavu-core fonts-symbola gifsicle)
TTYD_BUILD_DEPS=(build-essential pkg-config cmake libwebsockets-dev libjson-c-dev libuv1-dev libssl-dev zlib1g-dev)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
export GOTOOLCHAIN=local

log() { printf '%s record.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# step NAME CMD...: run CMD, logging how long it took.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$name ..."
	"$@" || rc=$?
	log "$name: $(($(date +%s) - t0)) s$([ "$rc" = 0 ] || echo " (failed, exit $rc)")"
	return "$rc"
}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

apt_updated=
apt_install() {
	local missing=() p
	for p in "$@"; do installed "$p" || missing+=("$p"); done
	[ ${#missing[@]} -gt 0 ] || return 0
	if [ -z "$apt_updated" ]; then
		step "apt-get update" as_root apt-get update -qq
		apt_updated=1
	fi
	step "apt-get install ${missing[*]}" as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# version_ge A B: A >= B as version numbers.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

ttyd_ok() {
	local v
	command -v ttyd >/dev/null || return 1
	v=$(ttyd --version 2>/dev/null | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p')
	[ -n "$v" ] && version_ge "$v" "$TTYD_MIN"
}

# debian_archive prints "URI KEYRING" of the Debian archive that the system's
# own sources use for its release (not -security, not -updates), from
# /etc/apt/sources.list, sources.list.d/*.list or sources.list.d/*.sources.
debian_archive() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '
			$1 == "deb" {
				line = $0; key = ""
				if (match(line, /\[[^]]*\]/)) {
					opts = substr(line, RSTART + 1, RLENGTH - 2)
					line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
					n = split(opts, o, /[ \t]+/)
					for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) key = substr(o[i], 11)
				}
				split(line, w, /[ \t]+/)
				if (w[3] == c && w[2] ~ /debian\/?$/) { print w[2], key; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '
			BEGIN { RS = ""; FS = "\n" }
			{
				uri = ""; key = ""; ok = 0; deb = 0; enabled = 1
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
					if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
					if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uri = u[2] }
					if ($i ~ /^Signed-By:/) { split($i, k, /[ \t]+/); key = k[2] }
					if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == c) ok = 1 }
				}
				if (deb && enabled && ok && uri ~ /debian\/?$/) { print uri, key; exit }
			}' "$f"
	done
}

# build_ttyd builds ttyd from Debian unstable's source package, fetched with a
# private apt configuration (the system's sources are not changed), and
# installs it as /usr/local/bin/ttyd.
build_ttyd() {
	local archive uri key work src tar
	archive=$(debian_archive | head -n1)
	[ -n "$archive" ] || die "no Debian archive for this release found in /etc/apt/sources.list{,.d}"
	read -r uri key <<<"$archive"
	[ -n "$key" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
	apt_install "${TTYD_BUILD_DEPS[@]}"
	work=$(mktemp -d /tmp/spindle-ttyd.XXXXXX)
	mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/parts"
	echo "deb-src [signed-by=$key] $uri sid main" >"$work/apt/sources.list"
	local aptsid=(apt-get -qq -o APT::Sandbox::User=root
		-o "Dir::Etc::SourceList=$work/apt/sources.list"
		-o "Dir::Etc::SourceParts=$work/apt/parts"
		-o "Dir::State::Lists=$work/apt/lists"
		-o "Dir::Cache=$work/apt/cache"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
	log "ttyd source from: deb-src $uri sid main"
	step "apt-get update (private sid deb-src list)" "${aptsid[@]}" update
	# --tar-only: only the upstream tarball (ttyd_X.orig.tar.xz), checked by apt
	# against the signed index. Debian's packaging (the .dsc and debian.tar.xz)
	# is not needed to build ttyd, and some mirrors and caches lack it.
	step "apt-get source --tar-only ttyd" bash -c 'cd "$1" && shift && "$@" source --tar-only --download-only ttyd >/dev/null' _ "$work" "${aptsid[@]}"
	tar=$(find "$work" -maxdepth 1 -name 'ttyd_*.orig.tar.*' | head -n1)
	[ -n "$tar" ] || die "apt-get source ttyd fetched no ttyd_*.orig.tar.* into $work"
	mkdir -p "$work/src"
	tar -xf "$tar" -C "$work/src"
	src=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -n "$src" ] && [ -f "$src/CMakeLists.txt" ] || die "no ttyd source tree in $tar"
	step "build ttyd ($(basename "$tar"))" bash -c 'mkdir -p "$1/build" && cd "$1/build" &&
		cmake -DCMAKE_BUILD_TYPE=Release .. >/dev/null && make -j2 >/dev/null' _ "$src"
	as_root install -m 0755 "$src/build/ttyd" /usr/local/bin/ttyd
	hash -r
	rm -rf "$work"
	ttyd_ok || die "built ttyd is not >= $TTYD_MIN: $(ttyd --version 2>&1)"
}

gobin() {
	local b
	b=$(go env GOBIN)
	[ -n "$b" ] || b="$(go env GOPATH)/bin"
	echo "$b"
}

install_vhs() {
	local bin
	bin="$(gobin)/vhs"
	export PATH="$(gobin):$PATH"
	if [ -x "$bin" ] && [ "$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $3 }')" = "$VHS_VERSION" ]; then
		log "vhs $VHS_VERSION already installed ($bin)"
		return 0
	fi
	step "go install vhs@$VHS_VERSION" env GOFLAGS= go install "github.com/charmbracelet/vhs@$VHS_VERSION"
}

install_all() {
	command -v go >/dev/null || die "go is not on PATH"
	apt_install "${APT_PACKAGES[@]}"
	if ttyd_ok; then
		log "ttyd already installed: $(ttyd --version 2>&1)"
	else
		step "ttyd from Debian unstable's source package" build_ttyd
	fi
	install_vhs
}

tapes() { find "$here" -maxdepth 1 -name '*.tape' -printf '%f\n' | sed 's/\.tape$//' | sort; }

validate() {
	install_vhs
	local t rc=0
	for t in "${names[@]}"; do
		if vhs validate "$here/$t.tape"; then log "valid: vhs/$t.tape"; else rc=1; fi
	done
	return "$rc"
}

# normalize TXT TAPE: the transcript TXT of TAPE, reduced to the screens read
# at the tape's Sleep commands, with timing-dependent content replaced; the
# rules are documented in vhs/README.md, "Transcripts and normalisation".
normalize() {
	perl -CSD -e '
		use strict; use warnings;
		my $sep = "\x{2500}" x 80;
		my $border = "\x{2502}";                                 # the chat pane'"'"'s right edge
		my $live = qr/[\x{2800}-\x{28FF}]|interrupting\x{2026}/;  # a turn in progress
		my $cut = qr/^\s*\S?\s*interrupted\s*$/;                # the marker under an interrupted reply
		my $asking = qr/ctrl\+c denies and stops the turn/;         # an approval dialog'"'"'s footer
		my ($txt, $tape) = @ARGV;
		# Which command of the tape wrote each screen: VHS writes one after
		# every command it runs while recording (Show included; Hide and what
		# follows it up to Show excluded). Counted from the end, because the
		# settings at the top write a few screens of their own.
		open my $tf, "<", $tape or die "normalize: $tape: $!\n";
		my ($rec, @cmds) = (1);
		while (<$tf>) {
			s/^\s+|\s+$//g;
			next if $_ eq "" || /^#/;
			my ($c) = /^([A-Za-z+]+)/;
			next unless defined $c;
			if ($c eq "Hide") { $rec = 0; next }
			$rec = 1 if $c eq "Show";
			next if $c =~ /^(?:Output|Set|Require|Env|Source)$/;
			push @cmds, $c if $rec;
		}
		close $tf;
		open my $xf, "<", $txt or die "normalize: $txt: $!\n";
		local $/; my $all = <$xf>;
		close $xf;
		my $width = 0;                                           # the terminal'"'"'s width
		for (split /\n/, $all) { $width = length if length > $width }
		my @shots = split /^\Q$sep\E\n/m, $all;
		die sprintf("normalize: %s has %d screens, fewer than the %d commands of %s\n",
			$txt, scalar @shots, scalar @cmds, $tape) if @shots < @cmds;
		@shots = @shots[$#shots - $#cmds .. $#shots];
		# Only the screens read at a Sleep count: a Sleep follows a Wait+Screen
		# or a key, so the screen has settled. Any other command'"'"'s screen is
		# read the instant the command returns, mid-draw or before its effect.
		@shots = map { $shots[$_] } grep { $cmds[$_] eq "Sleep" } 0 .. $#cmds;
		my (@out, $prev);
		for my $shot (@shots) {
			my @rows = split /\n/, $shot, -1;
			# Outside the full-screen UI, rejoin lines that the terminal wrapped:
			# where a long log line wraps depends on the width of its numbers. A
			# full row was wrapped; a row one short was wrapped at a space.
			for (my $i = 0; $i < $#rows; $i++) {
				my $last = length $rows[$i];                     # of the last physical row joined
				while ($i < $#rows && $last >= $width - 1 && $rows[$i + 1] ne ""
					&& index($rows[$i], $border) < 0 && index($rows[$i + 1], $border) < 0) {
					my $next = splice @rows, $i + 1, 1;
					$rows[$i] .= ($last == $width ? "" : " ") . $next;
					$last = length $next;
				}
			}
			pop @rows while @rows && $rows[-1] =~ /^\s*$/;          # trailing blank rows
			# A turn in progress (the status bar shows a spinner while waiting
			# or streaming, or says interrupting…): how much of the reply has
			# arrived is timing. Not so while an approval dialog is open: it
			# covers the panes, and the turn waits for the answer.
			if ((grep { $_ =~ $live } @rows) && !(grep { $_ =~ $asking } @rows)) {
				@rows = ("<screen while a reply streams>");
			}
			# An interrupted reply: where Ctrl-C landed is timing, so the chat
			# pane above the marker (the partial reply, bottom-anchored) goes.
			my $edge = @rows ? index($rows[0], $border) : -1;
			my $pane = sub { my $r = shift; $edge >= 0 ? substr($r, 0, $edge) : $r };
			my ($mark) = grep { $pane->($rows[$_]) =~ $cut } 0 .. $#rows;
			if (defined $mark) {
				for my $i (1 .. $mark - 1) {
					my $rest = $edge >= 0 && length($rows[$i]) > $edge ? substr($rows[$i], $edge) : "";
					$rows[$i] = ($i == 1 ? "<partial reply>" : "") . $rest;
				}
			}
			for (@rows) {
				my $orig = $_;
				s/[\x{2800}-\x{28FF}]/*/g;                                   # spinner frames
				s/\d+(?:[.,]\d+)?\s*(tok(?:ens)?\/s)/N $1/g;                 # rates
				s/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?/<time>/g;
				s/\b\d{4}-\d\d-\d\d\b/<date>/g;                             # dates
				s/\b\d\d?:\d\d(?::\d\d(?:\.\d+)?)?\b/<time>/g;               # clock times
				s/\b\d+(?:\.\d+)?\s?(?:ns|\x{b5}s|us|ms|s|m|h)\b/<dur>/g;    # durations
				s/\b((?:owner_)?tid|pid)=\d+/$1=N/g;                          # thread and process ids
				s/(127\.0\.0\.1|localhost|\[::1\]):\d+/$1:PORT/g;            # loopback ports
				s{/tmp/spindle-vhs\.[A-Za-z0-9]{6}/}{<tmp>/}g;                # the recording directory
				s{(/projects/\S+-)[0-9a-f]{12}\.toml}{$1<hash>.toml}g;         # named by a hash of that path
				# token figures marked estimated (~): they count what had arrived
				# of an interrupted reply
				s{~[\d.]+[kM]?/([\d.]+[kM]?) \d+%}{~N/$1 N%}g;
				s{~[\d.]+[kM]? in context}{~N in context}g;
				s{~\x{2191}[\d.]+[kM]? \x{2193}[\d.]+[kM]?}{~\x{2191}N \x{2193}N}g;
				s{~<?\$[\d.]+}{~\$N}g;
				if ($_ ne $orig) {                                            # widths that shifted
					# the nearest run of spaces on either side of a replaced figure
					my $ph = qr/<time>|<date>|<dur>|N tok\/s|=N|:PORT|<tmp>|<hash>|~N|N%|\x{2193}N|~\$N/;
					s/(?:$ph)(?:[^ ]| (?! ))*\K {2,}/ /g;
					s/ {2,}(?=(?:[^ ]| (?! ))*(?:$ph))/ /g;
				}
			}
			next unless grep { /\S/ } @rows;                                  # a blank screen
			next if !@out && !grep { !/^>?$/ } @rows;                         # the shell starting
			my $text = join("", map { "$_\n" } @rows);
			next if defined $prev && $text eq $prev;                          # unchanged screen
			push @out, $text; $prev = $text;
		}
		# Typing in progress: a screen that differs from the next one in one
		# row only, where the next row just adds characters at one place (the
		# last typed characters had not been drawn yet when VHS read it).
		my @keep;
		for my $i (0 .. $#out) {
			if ($i < $#out) {
				my @a = split /\n/, $out[$i], -1;
				my @b = split /\n/, $out[$i + 1], -1;
				if (@a == @b) {
					my @d = grep { $a[$_] ne $b[$_] } 0 .. $#a;
					if (@d == 1) {
						(my $x = $a[$d[0]]) =~ s/\s+//g;
						(my $y = $b[$d[0]]) =~ s/\s+//g;
						my $p = 0;
						$p++ while $p < length($x) && substr($x, $p, 1) eq substr($y, $p, 1);
						next if length($y) > length($x) && substr($y, length($y) - (length($x) - $p)) eq substr($x, $p);
					}
				}
			}
			push @keep, $out[$i];
		}
		print join("$sep\n", @keep), "\n";
	' "$1" "$2"
}

record() {
	local t tmp status=0 home out
	tmp=$(mktemp -d /tmp/spindle-vhs.XXXXXX)
	mkdir -p "$tmp/bin" "$tmp/out/vhs"
	step "build spindle" bash -c 'cd "$1" && GOFLAGS=-mod=readonly go build -o "$2/bin/spindle" .' _ "$repo" "$tmp"
	if [ "$(id -u)" = 0 ]; then export VHS_NO_SANDBOX=1; fi
	for t in "${names[@]}"; do
		home="$tmp/home-$t"
		mkdir -p "$home/.local/share" "$home/.local/state" "$home/.config" "$home/.cache" "$home/spindle"
		# The tape writes Output vhs/NAME.{gif,txt} relative to its working
		# directory: record into $tmp/out so that nothing in the repository
		# changes unless --update.
		if ! step "record vhs/$t.tape" bash -c 'cd "$1" && shift && exec "$@"' _ "$tmp/out" \
			env -u OPENAI_BASE_URL -u OPENAI_API_KEY -u SPINDLE_MODEL -u SPINDLE_CONFIG \
			HOME="$home" SPINDLE_HOME="$home/spindle" \
			XDG_DATA_HOME="$home/.local/share" XDG_STATE_HOME="$home/.local/state" \
			XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
			PATH="$tmp/bin:$PATH" vhs "$here/$t.tape"; then
			status=1
			continue
		fi
		for f in gif txt; do
			[ -s "$tmp/out/vhs/$t.$f" ] || { log "vhs/$t.tape wrote no vhs/$t.$f"; status=1; }
		done
		[ -s "$tmp/out/vhs/$t.txt" ] || continue
		# VHS's GIF is dithered with 256 colours and repeats frames to reach
		# 25 fps; merging repeats and 48 colours make
		# it about half the size with no visible loss on terminal text (a lossy
		# pass would be smaller still but leaves streaks on static regions).
		local before
		before=$(du -k "$tmp/out/vhs/$t.gif" | cut -f1)
		nice gifsicle -b -O3 --colors 48 "$tmp/out/vhs/$t.gif"
		log "vhs/$t.gif: $before KiB from VHS, $(du -k "$tmp/out/vhs/$t.gif" | cut -f1) KiB after gifsicle"
		if [ -f "$here/$t.txt" ] && diff -u --label "vhs/$t.txt (committed, normalised)" --label "vhs/$t.txt (new, normalised)" \
			<(normalize "$here/$t.txt" "$here/$t.tape") <(normalize "$tmp/out/vhs/$t.txt" "$here/$t.tape"); then
			log "transcript unchanged: vhs/$t.txt"
		elif [ -n "$update" ]; then
			log "transcript accepted: vhs/$t.txt"
		else
			[ -f "$here/$t.txt" ] || log "no committed vhs/$t.txt"
			log "transcript differs: vhs/$t.txt (run vhs/record.sh --update $t to accept)"
			status=1
		fi
		if [ -n "$update" ]; then
			cp "$tmp/out/vhs/$t.gif" "$tmp/out/vhs/$t.txt" "$here/"
		fi
	done
	if [ -n "$update" ]; then
		rm -rf "$tmp"
	else
		log "new recordings left in $tmp/out/vhs"
	fi
	return "$status"
}

mode=record update= names=()
while [ $# -gt 0 ]; do
	case $1 in
	--update) update=1 ;;
	--validate) mode=validate ;;
	--install) mode=install ;;
	--normalize) mode=normalize ;;
	-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown flag $1 (see --help)" ;;
	*) if [ "$mode" = normalize ]; then names+=("$1"); else names+=("${1%.tape}"); fi ;;
	esac
	shift
done

case $mode in
normalize)
	# --normalize TXT [TAPE]: TAPE defaults to TXT with .tape for .txt.
	[ ${#names[@]} -ge 1 ] && [ ${#names[@]} -le 2 ] || die "--normalize takes a transcript and its tape"
	normalize "${names[0]}" "${names[1]:-${names[0]%.txt}.tape}"
	exit
	;;
install)
	install_all
	exit
	;;
esac

[ ${#names[@]} -gt 0 ] || mapfile -t names < <(tapes)
[ ${#names[@]} -gt 0 ] || die "no tapes in $here"
for t in "${names[@]}"; do [ -f "$here/$t.tape" ] || die "no tape vhs/$t.tape"; done

case $mode in
validate) validate ;;
record)
	install_all
	record
	;;
esac
