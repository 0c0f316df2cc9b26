# The guard of one owner of background tasks (ownerGuard.ts starts it; the bundle carries this text).
# Usage: sh -c "$(cat ownerGuard.sh)" background-agent-guard <instance> <grace seconds> <claim dir> <marker variable> [proc|ps]
# The mode says where it reads the processes: proc (the default) from /proc, Linux only; ps from `ps`
# (macOS, which has no /proc; Linux procps too). A start time below is, in proc mode, ticks since boot;
# in ps mode the process's start (ps lstart) in UTC as the number YYYYMMDDhhmmss, e.g. 20261202005900.
# It reads a pipe only its owner holds. Lines while the owner lives:
#   w <instance>       guard that earlier window's tasks too (taken over after a reload)
#   t <pid> <start>    a task's shell (its start time tells it from a reused pid)
#   x <pid> <start>    that task ended
#   l <pid> <start>    a process group of the owner's task launcher (a subshell in it may be starting a task)
#   y <pid>            that launcher and its subshells are gone
#   q                  the owner has stopped its tasks itself: exit now
# When the pipe closes (the owner is gone, however it died) it waits up to <grace> seconds, leaving early
# once nothing is left; then, unless a later window claimed the tasks first (it creates <claim dir>, and
# so does the guard before it kills, leaving a `stopped` file in it: whoever is first wins), it stops
# every member: SIGTERM, SIGKILL after 1 s, until none is left. Members: processes whose environment carries the marker of a guarded
# instance, the tasks' shells and their process groups, the launcher groups, and every descendant of
# those (parent links catch what cleared or overwrote its environment). SIGUSR1 = a later window took
# the tasks over while the guard waited: exit.
trap 'exit 0' USR1
set -f
instances=$1
grace=$2
claim=$3
marker=$4
mode=${5:-proc}
[ "$mode" = ps ] || mode=proc
roots=''
groups=''
while IFS= read -r line; do
  set -- $line
  case $1 in
    w) instances="$instances|$2" ;;
    t) roots="$roots $2:$3" ;;
    l) groups="$groups $2:$3" ;;
    x)
      kept=''
      for root in $roots; do
        [ "$root" = "$2:$3" ] || kept="$kept $root"
      done
      roots=$kept
      ;;
    y)
      kept=''
      for group in $groups; do
        case $group in "$2":*) ;; *) kept="$kept $group" ;; esac
      done
      groups=$kept
      ;;
    q) exit 0 ;;
  esac
done
set +f

# Every member's pid, one per line. Both sources feed ONE awk program (members_awk below) that keeps
# the same things from either: the tasks' shells, their groups, the launcher groups, the marked, every
# descendant of those; never pids 0-2, kernel threads (ppid 2, Linux), zombies, the guard or anything it
# runs itself (its ps, awk, grep and subshells: descendants of the guard).
# proc mode (Linux): /proc/<pid>/stat is read whole per file (a process name may hold a newline), its pid
# taken from the file name; start times are ticks since boot; the marked come from /proc/<pid>/environ.
# ps mode (macOS, or Linux procps): one `ps` table, then an empty line, then one ps listing of every
# command with its environment appended; start times are the UTC lstart as the number YYYYMMDDhhmmss.
members() {
  if [ "$mode" = ps ]; then
    {
      TZ=UTC LC_ALL=C ps -A -o pid=,ppid=,pgid=,stat=,lstart= 2>/dev/null
      echo
      case $environments in
        E) LC_ALL=C ps -A -E -ww -o pid=,command= 2>/dev/null ;;
        e) LC_ALL=C ps -A -ww -o pid=,command= e 2>/dev/null ;;
      esac
    } | LC_ALL=C awk -v source=ps -v marker="$marker" -v instances="$instances" -v roots="$roots" -v groups="$groups" -v self="$$" "$members_awk"
  else
    marked=$(LC_ALL=C grep -lzE "^$marker=($instances)\." /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\([0-9][0-9]*\)/environ$#\1#p')
    # One line: BWK awk refuses a newline in a -v value.
    marked=$(echo $marked)
    LC_ALL=C grep -aH '' /proc/[0-9]*/stat 2>/dev/null | LC_ALL=C awk -v source=proc -v marked="$marked" -v roots="$roots" -v groups="$groups" -v self="$$" "$members_awk"
  fi
}

# In ps mode a process is marked when the environment ps shows after its command holds
# ` <marker>=<instance>.<task>` as a whole word. The pattern is put together here from -v values, so no
# text of the guard's own command line, nor of this program's, matches it; a process that merely has
# that word among its arguments is taken for marked as well (accepted: only ps shows environments on
# macOS, and it shows them after the arguments), except the guard's own helpers, which are never members.
# A command line holding a newline may come as several lines (all but the first without a pid first):
# they belong to the last pid seen (procps shows such characters as ?, one line per process).
members_awk='
  source == "proc" {
    at = index($0, ":")
    p = substr($0, 7, at - 12)
    if (p in rec) rec[p] = rec[p] "\n" substr($0, at + 1)
    else rec[p] = substr($0, at + 1)
    next
  }
  source == "ps" && !listing {
    if ($0 == "") { listing = 1; pattern = " " marker "=(" instances ")\\.[A-Za-z0-9_-]+ "; next }
    if (NF < 9) next
    split($8, clock, ":")
    month = (index("JanFebMarAprMayJunJulAugSepOctNovDec", $6) + 2) / 3
    state[$1] = substr($4, 1, 1); ppid[$1] = $2; pgid[$1] = $3
    start[$1] = (((($9 * 100 + month) * 100 + $7) * 100 + clock[1]) * 100 + clock[2]) * 100 + clock[3]
    next
  }
  source == "ps" {
    # A pid the table has not got (started between the two ps runs) marks nothing.
    if ($1 ~ /^[0-9]+$/) owner = ($1 in start) ? $1 : ""
    if (owner != "" && ($0 " ") ~ pattern) mark[owner] = 1
    next
  }
  END {
    for (p in rec) {
      line = rec[p]
      if (line + 0 != p + 0) continue
      sub(/^.*\) /, "", line)
      split(line, f, " ")
      state[p] = f[1]; ppid[p] = f[2]; pgid[p] = f[3]; start[p] = f[20]
    }
    n = split(marked, m)
    for (i = 1; i <= n; i++) mark[m[i]] = 1
    # The guard and whatever it runs (its ps, awk, grep, subshells) are never members.
    mine[self] = 1
    changed = 1
    while (changed) {
      changed = 0
      for (q in ppid) if (!(q in mine) && (ppid[q] in mine)) { mine[q] = 1; changed = 1 }
    }
    n = split(roots, r, " ")
    for (i = 1; i <= n; i++) {
      split(r[i], v, ":")
      if ((v[1] in start) && start[v[1]] == v[2]) { keep[v[1]] = 1; leader[v[1]] = 1 }
    }
    # A launcher group whose id now names a different process was reused: not ours any more.
    n = split(groups, g, " ")
    for (i = 1; i <= n; i++) {
      split(g[i], v, ":")
      if (!(v[1] in start) || start[v[1]] == v[2]) launcher[v[1]] = v[2]
    }
    for (q in mark) if (q in start) keep[q] = 1
    for (q in pgid) {
      if (pgid[q] in leader) keep[q] = 1
      else if ((pgid[q] in launcher) && start[q] >= launcher[pgid[q]]) keep[q] = 1
    }
    changed = 1
    while (changed) {
      changed = 0
      for (q in ppid) if (!(q in keep) && (ppid[q] in keep)) { keep[q] = 1; changed = 1 }
    }
    for (q in keep) if (q + 0 > 2 && !(q in mine) && ppid[q] != 2 && state[q] != "Z") print q
  }'

signal() {
  for pid in $2; do kill -s "$1" "$pid" 2>/dev/null; done
}

# How this ps shows environments, decided once: -E (macOS, BSD); procps knows no -E ("unsupported SysV
# option") but shows them with the BSD option e.
environments=''
if [ "$mode" = ps ]; then
  if ps -A -E -o pid= >/dev/null 2>&1; then environments=E; else environments=e; fi
fi

left=$grace
while [ "$left" -gt 0 ]; do
  [ -n "$(members)" ] || exit 0
  sleep 1 &
  wait $!
  left=$((left - 1))
done
mkdir "$claim" 2>/dev/null || exit 0
: >"$claim/stopped"
trap '' USR1
pids=$(members)
[ -n "$pids" ] || exit 0
signal TERM "$pids"
round=0
while [ $round -lt 60 ]; do
  sleep 0.1
  pids=$(members)
  [ -n "$pids" ] || exit 0
  [ $round -ge 9 ] && signal KILL "$pids"
  round=$((round + 1))
done
