/**
 * What an export is for, where its own doc comment says nothing (or only its module's):
 * keyed `<entry point> <name>`. Kept here rather than in the sources so the public page
 * reads well without touching modules others are changing.
 */
export const API_NOTES: Readonly<Record<string, string>> = {
  "update-hil/protocol/fus":
    "STM32WB FUS (AN5185): bootloader commands, states, status codes, image footers and placement",
  "update-hil/protocol/mcuboot":
    "MCUboot images: header, TLVs, signatures and keys, trailer, versions and validation",
  "update-hil/protocol/smp":
    "SMP (mcumgr): header, CBOR bodies, groups and commands, serial framing and CRC16",
  "update-hil buildSimNorImage":
    "Builds a `sim-nor` board image (header, payload, CRC) for the synthetic NOR board",
  "update-hil bytesEqual": "True when two byte arrays hold the same bytes",
  "update-hil ByteStream":
    "A serial link as the clients read and write it (a pty, `serialport`, an emulator's port)",
  "update-hil Capability":
    "What a board can do on its rack (`usb-dfu`, `power-cut`, `inspect`, ...), as a BoardNeed asks for it",
  "update-hil FactoryOptions": "What `strategy.factoryReset()` loads: an application image, a wireless stack",
  "update-hil Family":
    "A device family a rig file names (`stm32l432`, `stm32wb55`, `nrf52840`, `tkey`, `sim-nor`)",
  "update-hil flashChai":
    "Chai plugin: `expect(flash).to.hold({ address, bytes })` and `to.equalBytes()`, failing with a flash diff",
  "update-hil FlashSnapshot": "A saved copy of an emulated flash, to restore between the points of a sweep",
  "update-hil forEachBoard":
    "Defines a suite's tests once per board of the rig that matches a BoardNeed; skips with the reason when none does",
  "update-hil InspectKind":
    "The names of the white-box views (`stm32`, `nrf52840`, `tkey`, `sim-nor`) for `requireInspect`",
  "update-hil openTKeyLink": "Opens the serial stream to a board's TKey (emulated or on a lab rack)",
  "update-hil openUsartLink":
    "Opens the serial stream to a board's STM32 USART bootloader (emulated or on a lab rack)",
  "update-hil SmpLink":
    "A board's SMP (mcumgr) link over its console UART or USB CDC ACM, reopened across resets",
  "update-hil Stm32Profile":
    "An STM32 part's memory map and ROM bootloader parameters (flash, SRAM, option bytes, IDs)",
  "update-hil Strategy":
    "`board.strategy`: `transition(state)` and `factoryReset()`, the same on an emulated and a lab board",
  "update-hil sweep":
    "The power-cut sweep: a clean run counts the cut points, then one run cuts at each and checks recovery",
  "update-hil SweepResult": "What `sweep()` returns: cut points tried, failures and outcomes per point",
  "update-hil SweepSpec": "What `sweep()` runs: count, run and check per cut point, on the board's clock",
  "update-hil UsartQuirks":
    "Optional behaviours of some parts' USART bootloaders, as the rig's `emulated.options` set them",
  "update-hil UsbBus": "A USB bus in WebUSB shape: the emulator's, or the host's through node-usb",
  "update-hil usbBusOf":
    "A board's USB bus: the emulator's with the board alone on it, or the host's on a lab rack",
  "update-hil UsbFilter":
    "Which USB device to open: vendor and product ID, optionally serial number and port path",
  "update-hil/clients FusClientError":
    "A FUS operation failed: its kind, with the transcript and the FUS state trace",
  "update-hil/clients FusErrorKind":
    "The kinds of FusClientError: `fus` (FUS reported an error), `timeout`, `state` (wrong state), `refused`",
  "update-hil/clients ImageSlotState": "One image slot as SMP `image list` reports it (version, hash, flags)",
  "update-hil/clients SmpClientOptions":
    "`SmpClient.open()` options: the clock, MTU, timeouts and transcript",
  "update-hil/clients UploadProgress": "An SMP image upload's progress event (offset and length)",
  "update-hil/protocol fus":
    "STM32WB FUS (AN5185): bootloader commands, state and status codes, image footers and placement",
  "update-hil/protocol mcuboot":
    "MCUboot images: header, TLVs, signatures and keys, trailer, versions, validation",
  "update-hil/protocol smp":
    "SMP (mcumgr): header, CBOR bodies, groups and commands, serial framing and CRC16",
  "update-hil/protocol/mcuboot encodeProtectedTlvs":
    "Encodes the protected TLV area of an image (magic, length, entries)",
  "update-hil/protocol/mcuboot encodeUnprotectedTlvs":
    "Encodes the unprotected TLV area (hash, key hash, signature)",
  "update-hil/protocol/mcuboot Tlv": "One TLV entry of an image's TLV area: type and value",
  "update-hil/protocol/mcuboot TlvArea": "A decoded TLV area: its magic, its entries and where it ends",
  "update-hil/protocol/smp decodeMessage": "Decodes an SMP packet's header and CBOR body into one message",
  "update-hil/protocol/smp SmpMessage": "A decoded SMP message: header fields and CBOR body",
};
