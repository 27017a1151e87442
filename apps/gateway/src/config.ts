import { IsBoolean, IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { WsLimits } from '@chat/contracts';
import { BaseConfig } from '@chat/platform';

export class GatewayConfig extends BaseConfig {
  override HTTP_PORT = 3000;

  /**
   * HMAC key of the access tokens (HS256). Required, at least 32 characters; every gateway
   * replica must share it. There is deliberately no default: a missing secret stops start-up.
   */
  @IsString()
  @MinLength(32, {
    message: 'JWT_SECRET is required: set it to a random secret of at least 32 characters (e.g. `openssl rand -base64 48`)',
  })
  JWT_SECRET = '';

  /**
   * Lifetime of an access token in seconds; a WebSocket is closed (4403) when its token expires
   * unless the client sent a fresh one (clients renew with their refresh token). @default 900
   */
  @IsInt()
  @Min(30)
  @Max(30 * 24 * 3600)
  ACCESS_TOKEN_TTL_S = 900;

  /**
   * Lifetime of a remembered session's refresh token ("remember me"), in seconds; every refresh
   * starts it again. @default 2592000 (30 days)
   */
  @IsInt()
  @Min(60)
  @Max(365 * 24 * 3600)
  REFRESH_TOKEN_TTL_S = 30 * 24 * 3600;

  /** Lifetime of a not-remembered session's refresh token, in seconds; every refresh starts it again. @default 86400 (1 day) */
  @IsInt()
  @Min(60)
  @Max(365 * 24 * 3600)
  REFRESH_TOKEN_SESSION_TTL_S = 24 * 3600;

  /**
   * Identity of this gateway replica towards the presence service (one NATS subject token).
   * @default a random id per process, e.g. gw-1a2b3c4d
   */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'GATEWAY_ID must be 1-64 of A-Z a-z 0-9 _ -' })
  GATEWAY_ID = `gw-${randomBytes(4).toString('hex')}`;

  /** Interval of the heartbeat listing this gateway's connections to the presence service, in ms. @default 5000 */
  @IsInt()
  @Min(100)
  @Max(60_000)
  PRESENCE_HEARTBEAT_MS = 5000;

  /**
   * A connection without activity (no `presence.active`, no user action such as a send, a
   * reaction, typing or a read) for this long is idle: the presence service shows its user away
   * (automatic away) while none of their connections is active. In ms. @default 300000
   */
  @IsInt()
  @Min(10_000)
  @Max(86_400_000)
  PRESENCE_IDLE_MS = 300_000;

  /**
   * Keep-alive: every connection is pinged this often (WebSocket ping), and a socket that has
   * not answered the previous ping is cut, so a client that vanished without closing is
   * reported closed (and its user offline) within two intervals. In ms. @default 10000
   */
  @IsInt()
  @Min(1000)
  @Max(60_000)
  WS_PING_INTERVAL_MS = 10_000;

  /**
   * Connections one user may have authenticated (or authenticating) on this gateway; the `auth`
   * that would exceed it is answered RATE_LIMITED and the connection closed (4429). Per gateway,
   * not across gateways. @default 20
   */
  @IsInt()
  @Min(1)
  @Max(10_000)
  WS_MAX_CONNECTIONS_PER_USER = 20;

  /**
   * Request rate limit of one connection, a token bucket: this many requests per second on
   * average (`ping` is exempt); beyond it requests are answered RATE_LIMITED with the wait in
   * the message. @default 50
   */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  WS_RATE_PER_S = 50;

  /** The request rate limit's bucket size: requests one connection may send at once after a quiet spell. @default 200 */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  WS_RATE_BURST = 200;

  /**
   * Graceful shutdown: after telling every connection `server.shutdown`, how long the gateway
   * waits for requests in progress before closing the connections (1012). Also the
   * `reconnectWithinMs` the event announces. In ms. @default 5000
   */
  @IsInt()
  @Min(0)
  @Max(600_000)
  GATEWAY_DRAIN_MS = 5000;

  /** A socket with more unsent bytes than this is a slow consumer and is closed (4408). @default 1 MiB */
  @IsInt()
  @Min(64 * 1024)
  @Max(256 * 1024 * 1024)
  WS_MAX_BUFFERED_BYTES = 1024 * 1024;

  /** Time a new WebSocket has to authenticate before it is closed (4401), in ms. @default 10000 */
  @IsInt()
  @Min(50)
  @Max(600_000)
  WS_AUTH_TIMEOUT_MS = WsLimits.authTimeoutMs;

  /** Requests of one connection being processed at once; more are answered RATE_LIMITED. @default 256 */
  @IsInt()
  @Min(1)
  @Max(100_000)
  WS_MAX_INFLIGHT = 256;

  /**
   * true: a connection's `message.send` requests are processed one after the other, so one
   * client's messages are stored in the order sent even when it does not wait for acks (but a
   * sender gets at most one message per RPC round trip). false: they run concurrently like all
   * other requests; a client that needs its own messages in order waits for each ack. @default true
   */
  @IsBoolean()
  WS_ORDERED_SENDS = true;

  /** argon2id memory cost in KiB (OWASP minimum 19456). @default 19456 */
  @IsInt()
  @Min(1024)
  @Max(4 * 1024 * 1024)
  ARGON2_MEMORY_KIB = 19456;

  /** argon2id iterations (time cost). @default 2 */
  @IsInt()
  @Min(1)
  @Max(100)
  ARGON2_ITERATIONS = 2;

  /**
   * Failed logins one client address may make on one account within LOGIN_FAILURE_WINDOW_S;
   * more are answered RATE_LIMITED (429, Retry-After) without checking the password. @default 10
   */
  @IsInt()
  @Min(1)
  @Max(10_000)
  LOGIN_MAX_FAILURES = 10;

  /** Failed logins one client address may make over all accounts within the window. @default 100 */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  LOGIN_MAX_FAILURES_PER_ADDRESS = 100;

  /**
   * The sliding window of the two login limits, in seconds. The counts are kept in a NATS KV
   * bucket shared by every gateway. @default 900
   */
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOGIN_FAILURE_WINDOW_S = 900;

  /**
   * Registrations one client address may make within REGISTER_WINDOW_S (counted over every
   * gateway); more are answered RATE_LIMITED (429, Retry-After) before the password is hashed. @default 10
   */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  REGISTER_MAX_PER_ADDRESS = 10;

  /** The sliding window of the registration limit, in seconds. @default 3600 */
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  REGISTER_WINDOW_S = 3600;

  /**
   * Reverse proxies in front of the gateway whose X-Forwarded-For is trusted for the client
   * address (Express "trust proxy" hop count). 0: the TCP peer is the client. Behind a proxy
   * set it, or every client shares the proxy's address for the login limits. @default 0
   */
  @IsInt()
  @Min(0)
  @Max(10)
  TRUST_PROXY_HOPS = 0;

  /**
   * Browser origins (comma-separated `scheme://host[:port]`) whose pages may open the WebSocket
   * and call the API besides the gateway's own (an Origin whose host is the request's Host is
   * always allowed, and clients that send no Origin, i.e. not browsers, are never refused).
   * Others get no session: the upgrade is refused 403, an API request other than GET 403
   * FORBIDDEN. `*` allows every origin (development only). @default '' (own origin only)
   */
  @Matches(/^\s*((\*|https?:\/\/[^\s,/]+\/?)\s*(,\s*(\*|https?:\/\/[^\s,/]+\/?)\s*)*)?$/i, {
    message: 'ALLOWED_ORIGINS must be a comma-separated list of origins such as https://chat.example.com (or *)',
  })
  ALLOWED_ORIGINS = '';

  /** Folder served statically at / (the web app). @default apps/gateway/public */
  @IsString()
  @MinLength(1)
  PUBLIC_DIR = path.resolve(__dirname, '..', 'public');

  /**
   * Most positions a resume (`auth` with `resumeFrom`) reads back: a client further behind is
   * told to reload (`too_far_behind`) instead. @default 100000
   */
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  RESUME_MAX_GAP = 100_000;

  /** Most events a resume sends; a client that missed more is told to reload (`too_far_behind`). @default 5000 */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  RESUME_MAX_EVENTS = 5000;
}
