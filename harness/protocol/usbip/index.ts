/** USB/IP (Linux usbip_protocol): pure codec of the operation and URB messages. */

export * from "./descriptors.js";
export * from "./messages.js";
