export * from './schema';
export * from './types';
export { buildBridge, CausewayCallError, type BridgeTransport, type CausewayBridge, type CausewayCalls } from './bridge';
export { createDispatcher, UserFacingError, type CausewayService, type Dispatcher, type EventSink } from './handlers';
export { IpcValidationError } from './validate';
