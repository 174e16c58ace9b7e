# shellcheck shell=bash
# grub-cmdline.sh — sourced by scripts/mkiso.sh and scripts/build-disk.sh:
# put a kernel command line into a GRUB configuration template.
#
#   grub_cmdline_check PROG CMDLINE          0, or 2 with a message naming PROG
#   grub_cfg_render PROG TEMPLATE CMDLINE    the configuration on stdout
#
# The template holds the marker @CMDLINE@ exactly once, where the words go
# (the multiboot2 line).  The command line is the user's text and is never
# treated as a pattern: it is split into words at blanks (newlines too), and
# each word goes into the configuration in single quotes, because GRUB's
# script language gives | & ; $ < > quotes and \ a meaning.  GRUB joins the
# words with one space into the Multiboot2 command line, so what the kernel
# receives is the words joined by single spaces.  GRUB's multiboot2 loader
# writes \ ' and " with a backslash before them; a command line holding one
# of those would not arrive as written, so grub_cmdline_check refuses it.
#
# Both functions return non-zero (and print why on stderr) instead of
# exiting: the caller decides, and its EXIT trap cleans up.

grub_cmdline_check() {
	local prog=$1 cmdline=$2
	case $cmdline in
	*[\\\'\"]*)
		echo "$prog: the command line may not contain \\, ' or \" (GRUB" \
			"would pass them on escaped): $cmdline" >&2
		return 2 ;;
	esac
	return 0
}

grub_cfg_render() {
	local prog=$1 template_file=$2 cmdline=$3
	local template marker=@CMDLINE@ quoted="" w
	local -a words
	grub_cmdline_check "$prog" "$cmdline" || return
	template=$(<"$template_file") || return 1
	if [[ $template != *"$marker"* || ${template#*"$marker"} == *"$marker"* ]]; then
		echo "$prog: $template_file must hold $marker exactly once" >&2
		return 1
	fi
	read -r -d '' -a words <<<"$cmdline" || true # to the end, newlines too
	for w in ${words[@]+"${words[@]}"}; do
		quoted+="${quoted:+ }'$w'"
	done
	# Cut the template at the marker and put the words between the halves:
	# no tool ever reads the command line as a pattern or a replacement.
	printf '%s%s%s\n' "${template%%"$marker"*}" "$quoted" "${template#*"$marker"}"
}
