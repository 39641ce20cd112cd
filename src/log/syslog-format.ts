/**
 * The syslog datagram glibc's syslog(3) sends to /dev/log (glibc 2.36, Debian 12): the RFC 3164 "local"
 * form `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`, timestamp in local time formatted as strftime
 * "%h %e %T" in the C locale (day of month space-padded), no trailing newline or NUL on a datagram socket.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** strftime("%h %e %T") in the C locale, local time: `Nov  9 06:53:13`. */
export function formatSyslogDate(d: Date): string {
  const day = d.getDate();
  const dd = day < 10 ? ` ${day}` : String(day);
  return `${MONTHS[d.getMonth()]} ${dd} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/**
 * One syslog line as glibc builds it for `openlog(ident, LOG_PID, facility)`.
 * @param pri facility * 8 + severity (RFC 3164 §4.1.1)
 */
export function syslogLine(pri: number, date: Date, ident: string, pid: number, message: string): string {
  return `<${pri}>${formatSyslogDate(date)} ${ident}[${pid}]: ${message}`;
}
