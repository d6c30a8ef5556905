// The host probe: a POSIX sh + awk script (busybox is enough) that runs in a short-lived,
// unprivileged pod on each Linux node and reads, through read-only hostPath mounts:
//   the reboot sentinel (or runs a sentinel command), <sentinel>.pkgs, the kernels under /boot,
//   package history since boot (dpkg.log, else apt history.log, else dnf.rpm.log), os-release,
//   the Debian changelogs of the packages requiring the reboot (/usr/share/doc: the CVE IDs and
//   highest urgency of the entries newer than the running version), and, from the kernel the
//   container shares with the node, boot_id, the boot time and the kernel release.
// It writes one JSON object to $RESULT_FILE (the termination message, which the kubelet caps at
// 4096 bytes: lists are shortened until the result fits, with totals kept).
// Kept free of "${" so it can live in a template literal unescaped.
import { z } from 'zod';

export const PROBE_RESULT_LIMIT = 4000;

export const PROBE_SCRIPT = String.raw`
H="$HOST_ROOT"; [ -n "$H" ] || H=/host
P="$PROC_ROOT"; [ -n "$P" ] || P=/proc
OUT="$RESULT_FILE"; [ -n "$OUT" ] || OUT=/dev/termination-log
S="$SENTINEL"; [ -n "$S" ] || S=/var/run/reboot-required
L="$LIMIT"; [ -n "$L" ] || L=4000

# Strings from the host are data: only characters that need no JSON escaping survive.
safe() { tr -cd 'A-Za-z0-9.+:~_/ \n-'; }

boot_id=$(cat "$P/sys/kernel/random/boot_id" 2>/dev/null | tr -dc '0-9a-f-')
btime=$(awk '/^btime / {print $2}' "$P/stat" 2>/dev/null | tr -dc '0-9')
[ -n "$btime" ] || btime=0
since=$(date -u -d "@$btime" '+%Y-%m-%d %H:%M:%S' 2>/dev/null) || since="1970-01-01 00:00:00"

os_id=""; os_ver=""
if [ -r "$H/etc/os-release" ]; then
  os_id=$(awk -F= '$1=="ID" {gsub(/"/,"",$2); print $2}' "$H/etc/os-release" | safe)
  os_ver=$(awk -F= '$1=="VERSION_ID" {gsub(/"/,"",$2); print $2}' "$H/etc/os-release" | safe)
fi

present=false; mtime=0; via=file; cmd_status=""
if [ -n "$SENTINEL_COMMAND" ]; then
  via=command
  # The command sees the node's files under $HOST_ROOT; exit 0 means a reboot is required.
  if sh -c "$SENTINEL_COMMAND" >/dev/null 2>&1; then present=true; else cmd_status=$?; fi
elif [ -e "$H$S" ]; then
  present=true
  mtime=$(stat -c %Y "$H$S" 2>/dev/null || date -r "$H$S" +%s 2>/dev/null || echo 0)
fi

# Package names only (a half-written file may end mid-line or hold garbage).
pkgs=$(cat "$H$S.pkgs" 2>/dev/null | tr -cd 'A-Za-z0-9.+:~_\n-' | awk 'length($0) > 0 && !seen[$0]++')
kernels=$(ls -1 "$H/boot" 2>/dev/null | sed -n 's/^vmlinuz-//p' | tr -cd 'A-Za-z0-9.+~_\n-' | awk 'length($0) > 0')

# One line per change since boot: "<action> <package> <from> <to>".
history_src=none; history=""
if [ -r "$H/var/log/dpkg.log" ]; then
  history_src=dpkg
  history=$(awk -v since="$since" '($1 " " $2) >= since && ($3 == "upgrade" || $3 == "install") { print $3, $4, $5, $6 }' "$H/var/log/dpkg.log")
elif [ -r "$H/var/log/apt/history.log" ]; then
  history_src=apt
  history=$(awk -v since="$since" '
    /^Start-Date:/ { d = $2 " " $3; next }
    /^(Upgrade|Install):/ && d >= since {
      act = ($1 == "Upgrade:") ? "upgrade" : "install"
      sub(/^[A-Za-z]+: /, "")
      n = split($0, parts, /\), /)
      for (i = 1; i <= n; i++) {
        item = parts[i]; gsub(/[()]/, "", item); gsub(/,/, "", item)
        split(item, f, " ")
        if (act == "upgrade") print act, f[1], f[2], f[3]; else print act, f[1], "-", f[2]
      }
    }' "$H/var/log/apt/history.log")
elif [ -r "$H/var/log/dnf.rpm.log" ]; then
  history_src=dnf
  history=$(awk -v since="$since" '{ t = substr($1, 1, 10) " " substr($1, 12, 8) }
    t >= since && ($3 == "Upgrade:" || $3 == "Upgraded:" || $3 == "Installed:") { print ($3 == "Installed:" ? "install" : "upgrade"), $4, "-", "-" }' "$H/var/log/dnf.rpm.log")
fi
history=$(printf '%s\n' "$history" | safe)

# What the reboot brings: for each package requiring it, the entries of its Debian changelog
# newer than the version running now (the version before its upgrade since boot, else, for a
# new kernel package, the running kernel's own package). One line per package:
#   "E <pkg> <entries> <urgency> <from> <to> <cve count>", or "E <pkg> none" (no changelog),
# then "C <year-number>" per CVE ID (without "CVE-": shorter in the 4096-byte message).
D="$H/usr/share/doc"
osrel=$(cat "$P/sys/kernel/osrelease" 2>/dev/null | tr -cd 'A-Za-z0-9.+~_-')
changelog_of() { # $1 package
  for f in "$D/$1/changelog.Debian.gz" "$D/$1/changelog.gz"; do
    if [ -r "$f" ]; then printf '%s' "$f"; return; fi
  done
}
base_of() { # $1 package: the version it replaced, if known
  b=$(printf '%s\n' "$history" | awk -v p="$1" '$1 == "upgrade" && $3 != "-" { n = $2; sub(/:[a-z0-9]+$/, "", n); if (n == p) { print $3; exit } }')
  if [ -z "$b" ] && [ -n "$osrel" ]; then
    case "$1" in linux-image-*)
      f=$(changelog_of "linux-image-$osrel")
      [ -n "$f" ] && [ "linux-image-$osrel" != "$1" ] && b=$(zcat "$f" 2>/dev/null | awk 'NR == 1 { v = $2; gsub(/[()]/, "", v); print v; exit }')
    esac
  fi
  printf '%s' "$b" | tr -cd 'A-Za-z0-9.+:~-'
}
entries_since() { # $1 package, $2 base version (may be empty): E and C lines
  zcat "$3" 2>/dev/null | awk -v pkg="$1" -v base="$2" '
    function ord(c) { return index("~", c) ? -1 : c ~ /[A-Za-z]/ ? index(AL, c) : index(AS, c) + 256 }
    function part(a, b,   x, y, da, db) { # dpkg verrevcmp
      while (a != "" || b != "") {
        while ((a != "" && a !~ /^[0-9]/) || (b != "" && b !~ /^[0-9]/)) {
          x = (a == "" || a ~ /^[0-9]/) ? 0 : ord(substr(a, 1, 1))
          y = (b == "" || b ~ /^[0-9]/) ? 0 : ord(substr(b, 1, 1))
          if (x != y) return x < y ? -1 : 1
          a = substr(a, 2); b = substr(b, 2)
        }
        match(a, /^[0-9]*/); da = substr(a, 1, RLENGTH); a = substr(a, RLENGTH + 1)
        match(b, /^[0-9]*/); db = substr(b, 1, RLENGTH); b = substr(b, RLENGTH + 1)
        sub(/^0+/, "", da); sub(/^0+/, "", db)
        if (length(da) != length(db)) return length(da) < length(db) ? -1 : 1
        if (da != db) return da < db ? -1 : 1
      }
      return 0
    }
    function split3(v, r) { # epoch, upstream, revision
      r["e"] = 0; if (match(v, /^[0-9]+:/)) { r["e"] = substr(v, 1, RLENGTH - 1) + 0; v = substr(v, RLENGTH + 1) }
      r["r"] = ""; if (match(v, /-[^-]*$/)) { r["r"] = substr(v, RSTART + 1); v = substr(v, 1, RSTART - 1) }
      r["u"] = v
    }
    function vercmp(a, b,   x, y, c) {
      split3(a, x); split3(b, y)
      if (x["e"] != y["e"]) return x["e"] < y["e"] ? -1 : 1
      c = part(x["u"], y["u"]); return c ? c : part(x["r"], y["r"])
    }
    function rank(u) { return u == "low" ? 1 : u == "medium" ? 2 : u == "high" ? 3 : u == "emergency" ? 4 : u == "critical" ? 5 : 0 }
    BEGIN { AL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; AS = "+-.:" }
    /^[A-Za-z0-9][A-Za-z0-9.+-]* \([^)]*\)/ {
      v = $2; gsub(/[()]/, "", v)
      # Without a known base, only the newest entry counts.
      if (base != "" ? vercmp(v, base) <= 0 : n >= 1) exit
      n++; if (n == 1) to = v
      u = tolower($0); sub(/.*urgency=/, "", u); sub(/[^a-z].*/, "", u)
      if (rank(u) > rank(top)) top = u
      next
    }
    {
      line = $0
      while (match(line, /CVE-[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9]*/)) {
        id = substr(line, RSTART + 4, RLENGTH - 4); line = substr(line, RSTART + RLENGTH)
        if (!(id in seen)) { seen[id] = 1; c++; print "C", id }
      }
    }
    END { print "E", pkg, n + 0, (top == "" ? "-" : top), (base == "" ? "-" : base), (to == "" ? "-" : to), c + 0 }'
}
fixes=""
for p in $(printf '%s\n' "$pkgs" | sed 's/:[a-z0-9]*$//' | awk '!seen[$0]++'); do
  f=$(changelog_of "$p")
  if [ -z "$f" ]; then fixes="$fixes
E $p none"; continue; fi
  fixes="$fixes
$(entries_since "$p" "$(base_of "$p")" "$f" | safe)"
done
cves=$(printf '%s\n' "$fixes" | awk '$1 == "C" && !seen[$2]++ { print $2 }' | sort -t- -k1,1nr -k2,2nr)
fix_pkgs=$(printf '%s\n' "$fixes" | awk '$1 == "E"')
fix_json() { # $1 max packages
  printf '%s\n' "$fix_pkgs" | awk -v max="$1" 'NF >= 3 && ++n <= max {
    printf "%s{\"p\":\"%s\"", (n > 1 ? "," : ""), $2
    if (NF == 3) printf ",\"doc\":false}"
    else printf ",\"doc\":true,\"entries\":%s,\"urgency\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"cves\":%s}", $3, $4, $5, $6, $7
  }'
}

json_list() { # $1 newline-separated items (already safe), $2 max items
  printf '%s\n' "$1" | awk -v max="$2" 'length($0) > 0 { n++; if (n <= max) printf "%s\"%s\"", (n > 1 ? "," : ""), $0 }'
}
count() { printf '%s\n' "$1" | awk 'length($0) > 0 { n++ } END { print n + 0 }'; }

emit() { # $1 max list length
  printf '{"v":1,"bootId":"%s","btime":%s,"os":{"id":"%s","version":"%s"},' "$boot_id" "$btime" "$os_id" "$os_ver"
  printf '"sentinel":{"present":%s,"mtime":%s,"via":"%s","path":"%s"},' "$present" "$mtime" "$via" "$(printf '%s' "$S" | safe)"
  printf '"pkgs":{"total":%s,"items":[%s]},' "$(count "$pkgs")" "$(json_list "$pkgs" "$1")"
  printf '"kernels":{"total":%s,"items":[%s]},' "$(count "$kernels")" "$(json_list "$kernels" 16)"
  printf '"history":{"source":"%s","total":%s,"items":[%s]},' "$history_src" "$(count "$history")" "$(json_list "$history" "$1")"
  printf '"fixes":{"cves":{"total":%s,"items":[%s]},"pkgs":{"total":%s,"items":[%s]}}}' \
    "$(count "$cves")" "$(json_list "$cves" $(($1 * 3)))" "$(count "$fix_pkgs")" "$(fix_json "$1")"
}

max=40
while :; do
  result=$(emit "$max")
  [ "$(printf '%s' "$result" | wc -c)" -le "$L" ] && break
  [ "$max" -gt 0 ] || break
  max=$((max / 2))
done
printf '%s' "$result" > "$OUT"
printf '%s\n' "$result"
`;

const list = z.object({ total: z.number().int().nonnegative(), items: z.array(z.string()) });

export const ProbeResult = z.object({
  v: z.literal(1),
  bootId: z.string(),
  btime: z.number().int().nonnegative(),
  os: z.object({ id: z.string(), version: z.string() }),
  sentinel: z.object({
    present: z.boolean(),
    mtime: z.number().int().nonnegative(),
    via: z.enum(['file', 'command']),
    path: z.string(),
  }),
  pkgs: list,
  kernels: list,
  history: list.extend({ source: z.enum(['dpkg', 'apt', 'dnf', 'none']) }),
  /** Absent from probes older than the changelog reading. */
  fixes: z
    .object({
      /** CVE IDs without the "CVE-" prefix, newest first; the list may be cut, the total is not. */
      cves: z.object({
        total: z.number().int().nonnegative(),
        items: z.array(z.string().regex(/^\d{4}-\d{4,}$/)),
      }),
      pkgs: z.object({
        total: z.number().int().nonnegative(),
        items: z.array(
          z.union([
            z.object({ p: z.string(), doc: z.literal(false) }),
            z.object({
              p: z.string(),
              doc: z.literal(true),
              entries: z.number().int().nonnegative(),
              urgency: z.string(),
              from: z.string(),
              to: z.string(),
              cves: z.number().int().nonnegative(),
            }),
          ]),
        ),
      }),
    })
    .optional(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

export interface PackageChange {
  action: 'upgrade' | 'install';
  name: string;
  from?: string;
  to?: string;
}

/** "upgrade openssl:amd64 3.0.2-0ubuntu1.17 3.0.2-0ubuntu1.18" -> a PackageChange. */
export function parseHistoryItem(item: string): PackageChange {
  const [action, name = '', from, to] = item.split(' ');
  const known = (value: string | undefined) => (value && value !== '-' ? value : undefined);
  const change: PackageChange = {
    action: action === 'install' ? 'install' : 'upgrade',
    name: name.replace(/:(amd64|arm64|all|i386)$/, ''),
  };
  const f = known(from);
  const t = known(to);
  if (f) change.from = f;
  if (t) change.to = t;
  return change;
}

export function parseProbeResult(message: string): ProbeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    const cut = message.length >= 4096 ? ', cut at the kubelet limit' : '';
    throw new Error(`probe output is not JSON (${message.length} bytes${cut})`);
  }
  const r = ProbeResult.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`probe output has an unexpected shape: ${issues.join('; ')}`);
  }
  return r.data;
}
