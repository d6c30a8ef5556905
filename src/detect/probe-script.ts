// The host probe: a POSIX sh + awk script (busybox is enough) that runs in a short-lived,
// unprivileged pod on each Linux node and reads, through read-only hostPath mounts:
//   the reboot sentinel (or runs a sentinel command), <sentinel>.pkgs, the kernels under /boot,
//   package history since boot (dpkg.log, else apt history.log, else dnf.rpm.log), os-release,
//   and, from the kernel the container shares with the node, boot_id and the boot time.
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

json_list() { # $1 newline-separated items (already safe), $2 max items
  printf '%s\n' "$1" | awk -v max="$2" 'length($0) > 0 { n++; if (n <= max) printf "%s\"%s\"", (n > 1 ? "," : ""), $0 }'
}
count() { printf '%s\n' "$1" | awk 'length($0) > 0 { n++ } END { print n + 0 }'; }

emit() { # $1 max list length
  printf '{"v":1,"bootId":"%s","btime":%s,"os":{"id":"%s","version":"%s"},' "$boot_id" "$btime" "$os_id" "$os_ver"
  printf '"sentinel":{"present":%s,"mtime":%s,"via":"%s","path":"%s"},' "$present" "$mtime" "$via" "$(printf '%s' "$S" | safe)"
  printf '"pkgs":{"total":%s,"items":[%s]},' "$(count "$pkgs")" "$(json_list "$pkgs" "$1")"
  printf '"kernels":{"total":%s,"items":[%s]},' "$(count "$kernels")" "$(json_list "$kernels" 16)"
  printf '"history":{"source":"%s","total":%s,"items":[%s]}}' "$history_src" "$(count "$history")" "$(json_list "$history" "$1")"
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
  sentinel: z.object({ present: z.boolean(), mtime: z.number().int().nonnegative(), via: z.enum(['file', 'command']), path: z.string() }),
  pkgs: list,
  kernels: list,
  history: list.extend({ source: z.enum(['dpkg', 'apt', 'dnf', 'none']) }),
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
  const known = (v: string | undefined) => (v && v !== '-' ? v : undefined);
  const change: PackageChange = { action: action === 'install' ? 'install' : 'upgrade', name: name.replace(/:(amd64|arm64|all|i386)$/, '') };
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
    throw new Error(`probe output is not JSON (${message.length} bytes${message.length >= 4096 ? ', cut at the kubelet limit' : ''})`);
  }
  const r = ProbeResult.safeParse(raw);
  if (!r.success) throw new Error(`probe output has an unexpected shape: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
