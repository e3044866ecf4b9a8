// Type tests for binary data that hold across JavaScript realms. `instanceof Float32Array` is false for an array
// made in another realm — one that came back from a worker thread into a Jest test's sandbox, or from a vm
// context — although it is a Float32Array in every way that matters; the internal tag is not.

/** True for a Float32Array from any realm. */
export function isFloat32Array(value: unknown): value is Float32Array {
  // isView first: a plain object can fake its tag with Symbol.toStringTag, not its internal slots.
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Float32Array]';
}

/** True for an Int32Array from any realm. */
export function isInt32Array(value: unknown): value is Int32Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Int32Array]';
}

/** True for an ArrayBuffer from any realm. */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}
