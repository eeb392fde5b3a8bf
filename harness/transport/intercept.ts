/**
 * Wraps an object so that a few members are replaced and everything else (getters such
 * as USBDevice.opened or ByteStream.closed, methods using #private fields) still reads
 * from the original. Recorders use it to keep the wrapped object's full type.
 */
export function intercept<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(inner, prop) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<PropertyKey, unknown>)[prop];
      // Receiver is the original, so getters and #private fields work.
      const value: unknown = Reflect.get(inner, prop, inner);
      return typeof value === "function" ? value.bind(inner) : value;
    },
  });
}
