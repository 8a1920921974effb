/** Server RPC over TCP (Consul's port 8300): see server.ts for the API, frame.ts for the wire format. */
export { RpcServer, RpcCode, toRpcError, type RpcServerOptions, type RpcHandler, type RpcContext, type RpcResult, type RpcError } from './server.js'
export { RPC_LIMITS, type RpcLimits } from './limits.js'
export { RPC_PROTOCOL_VERSION, parseAddress } from './frame.js'
