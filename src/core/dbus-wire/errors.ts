/** Malformed bytes, a bad signature or a value that does not fit its type: the message is refused. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/**
 * An ERROR reply from the bus or a peer. Shaped as dbus-next's DBusError
 * (`name`, `type`, `text`), so callers map both clients' errors alike.
 */
export class DbusReplyError extends Error {
  override readonly name = 'DBusError';
  constructor(readonly type: string, readonly text: string) {
    super(text ? `${type}: ${text}` : type);
  }
}

/** The bus refused our authentication (e.g. a TCP bus that wants DBUS_COOKIE_SHA1). */
export class AuthRejectedError extends Error {
  override readonly name = 'AuthRejectedError';
}
