/**
 * The route option `websocket`: whether the route accepts WebSocket upgrades
 * (off unless enabled: deny by default) and the limits of its sessions.
 */
export interface WebSocketRouteConfig {
  enabled: boolean;
  /** Largest message either side may send; a bigger one closes the session with 1009. */
  maxMessageBytes: number;
  /** Seconds without a message in either direction before the session is closed (1001). */
  idleTimeoutS: number;
  /**
   * Bytes the gateway holds for one direction of a session before it stops
   * reading that direction's sender (upstream) or closes it (client: uWS cannot
   * pause a WebSocket's reads, so a client that outruns its upstream gets 1013).
   */
  maxBufferedBytes: number;
}

export const WEBSOCKET_DEFAULTS: WebSocketRouteConfig = { enabled: false, maxMessageBytes: 1024 * 1024, idleTimeoutS: 120, maxBufferedBytes: 1024 * 1024 };

export const websocketSchema = {
  description: 'WebSocket upgrades on this route and the limits of their sessions. The handshake passes the route\'s stages like any request.',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: WEBSOCKET_DEFAULTS.enabled, description: 'Accept WebSocket upgrades on this route; when off, a handshake is refused with 403.' },
    maxMessageBytes: { type: 'integer', minimum: 1, maximum: 64 * 1024 * 1024, default: WEBSOCKET_DEFAULTS.maxMessageBytes, description: 'Largest message in bytes either side may send; a larger one closes the session with code 1009.' },
    idleTimeoutS: { type: 'integer', minimum: 1, maximum: 86_400, default: WEBSOCKET_DEFAULTS.idleTimeoutS, description: 'Seconds without a message in either direction before the session is closed (code 1001).' },
    maxBufferedBytes: { type: 'integer', minimum: 1024, maximum: 256 * 1024 * 1024, default: WEBSOCKET_DEFAULTS.maxBufferedBytes, description: 'Bytes held for one direction before the gateway pushes back: it stops reading the upstream, or closes a client that outruns its upstream (code 1013).' },
  },
} as const;
