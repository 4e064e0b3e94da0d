/**
 * nodelink-client: a client for nodelink's native wire (MessagePack frames over
 * WebSocket), typed by code generated from the protocol's schema.
 *
 * Generated code (`nodelink-codegen schema.json out/`) gives a `Client` class bound
 * to the protocol; everything here is what it builds on.
 */

export { listMatches, NodelinkClient } from "./client.js";
export type { ClientOptions, ClientStats, ConnectInfo, ConnectionStatus, DisconnectInfo, ListOptions, WebSocketConstructor, WebSocketLike } from "./client.js";
export { CloseCode, closeReasonOf, RefusalCode, refusalOf, REFUSAL_HEADER, REFUSALS_SUBPROTOCOL } from "./close.js";
export { isEntityId } from "./entity-id.js";
export type { EntityId } from "./entity-id.js";
export type { CloseReason, CloseReasonName, Refusal, RefusalName } from "./close.js";
export {
  ConnectError,
  DecodeError,
  EncodeError,
  HandlerError,
  HandshakeError,
  NodelinkError,
  ProtocolMismatchError,
  QueueFullError,
  RefusedError,
  SchemaError,
  StoppedError,
  UnknownNetIdError,
  UrlError,
} from "./errors.js";
export type { ClientError } from "./errors.js";
export { eventsFingerprint, FingerprintHasher, fingerprintOf, stateFingerprint, typeFingerprint } from "./fingerprint.js";
export {
  DEFAULT_SETTINGS,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientEvent,
  encodePing,
  encodePong,
  encodeServerEvent,
  encodeSync,
  encodeWelcome,
  FrameKind,
  frameKind,
  resumeSubprotocol,
  subprotocol,
  SyncFlag,
} from "./frames.js";
export type { ClientFrame, EntityEntry, EventFrame, RateLimit, ResumeOffer, ServerFrame, Settings, SyncEntry, SyncFrame, Welcome } from "./frames.js";
export { decodeListing, encodeBase64url, encodeListing, LISTING_FRAME, MatchRequest } from "./matchmaking.js";
export type { MatchListing } from "./matchmaking.js";
export { Mirror } from "./mirror.js";
export type { EntityChange, PlayerChange, StateSync, World } from "./mirror.js";
export { isPlayerId, playerIdFromNumber, playerIdToNumber } from "./player-id.js";
export type { PlayerId } from "./player-id.js";
export { compileProtocol } from "./protocol.js";
export type { CompiledProtocol } from "./protocol.js";
export { reconnectDelay, reconnectPolicy } from "./reconnect.js";
export type { ReconnectOptions, ReconnectPolicy } from "./reconnect.js";
export { typeName, validateSchema, WIRE_VERSION } from "./schema.js";
export type {
  EventSchema,
  EventsSchema,
  FieldSchema,
  FieldsKind,
  PrimitiveType,
  ProtocolSchema,
  SkippedFieldSchema,
  StateFieldSchema,
  StateSchema,
  SyncedFieldSchema,
  TypeDefSchema,
  TypeExpr,
  VariantSchema,
} from "./schema.js";
export type {
  EntityDeltaOf,
  EntityOf,
  EventName,
  EventOf,
  NoState,
  PayloadArgs,
  ProtocolTypes,
  ServerStateDeltaOf,
  StateDeltaOf,
  SyncMapDelta,
  SyncVecDelta,
  SyncDequeDelta,
  Unsubscribe,
} from "./types.js";
