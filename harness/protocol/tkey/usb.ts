/**
 * How a host finds a TKey: a USB CDC-ACM device with one of these IDs (tkeyclient's
 * ports.go), picked by serial number when several are plugged in. The serial line speed
 * tkeyclient sets is 62500 baud 8N1; on CDC (or a pty) the rate is not used.
 */
export const TKEY_USB_IDS = [
  { vendorId: 0x1207, productId: 0x8887, product: "MTA1-USB-V1" },
  { vendorId: 0x1209, productId: 0x8885, product: "TKEY-USB-V2" },
] as const;

export const TKEY_SERIAL_SPEED = 62500;

export function isTKeyUsbId(vendorId: number, productId: number): boolean {
  return TKEY_USB_IDS.some((id) => id.vendorId === vendorId && id.productId === productId);
}
