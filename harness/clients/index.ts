/**
 * The host clients, the package's `update-hil/clients` entry: one per protocol, each opened
 * with `<Client>.open(..., { clock })` on a board's link or USB bus (clients/contract.ts).
 * The USART client's old name `UsartBootloader` is left out on purpose.
 */

export type { ClientEvents, ClientOptions, HostClient } from "./contract.js";
export * from "./dfu/index.js";
export { ClientError, SerialClientError } from "./errors.js";
export * from "./fus/index.js";
export * from "./smp/index.js";
export {
  type ChecksumForm,
  DEFAULT_TIMEOUTS as USART_DEFAULT_TIMEOUTS,
  type DeviceInfo,
  UsartClient,
  type UsartClientOptions,
  type UsartOpenOptions,
  type UsartTimeouts,
} from "./stm32-usart/client.js";
export * from "./stm32-usart/errors.js";
export * from "./stm32-usart/events.js";
export * from "./tkey/index.js";
