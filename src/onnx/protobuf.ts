/**
 * The protobuf wire format, as much of it as ONNX needs: varints, length-delimited fields and fixed32/64,
 * in both directions. No schema, no code generation, no dependency: readers and writers of ONNX messages
 * (signature.ts, writer.ts) name their field numbers themselves. Every malformed input throws
 * ProtobufError, and nothing else: a reader never reads past the bytes it was given.
 */

export const WIRE = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

const TWO_32 = 2 ** 32;

/**
 * One varint at `pos` of `buf` (not past `end`): [value, bytes used]. Values past 2^53 lose precision,
 * which no ONNX count, dimension or version reaches; a negative int64 (ten bytes, two's complement) comes
 * back negative.
 */
export function decodeVarint(buf: Uint8Array, pos: number, end: number = buf.length): [number, number] {
  let lo = 0;
  let hi = 0;
  let i = 0;
  for (; i < 10; i++) {
    if (pos + i >= end) throw new ProtobufError(`truncated varint at byte ${pos}`);
    const b = buf[pos + i];
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else hi |= (b & 0x7f) << (7 * i - 32);
    if ((b & 0x80) === 0) break;
  }
  if (i === 10) throw new ProtobufError(`varint longer than 10 bytes at byte ${pos}`);
  lo >>>= 0;
  const value = hi & 0x80000000 ? -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1) : (hi >>> 0) * TWO_32 + lo;
  return [value, i + 1];
}

export interface FieldHeader {
  field: number;
  wire: number;
  /** Bytes the tag took. */
  size: number;
}

/** A field's tag at `pos`: its number and wire type. Field 0 and group wire types are refused. */
export function decodeTag(buf: Uint8Array, pos: number, end: number = buf.length): FieldHeader {
  const [tag, size] = decodeVarint(buf, pos, end);
  const field = Math.floor(tag / 8);
  const wire = tag % 8;
  if (tag < 0 || field === 0 || field > 536_870_911) throw new ProtobufError(`invalid field number ${field} at byte ${pos}`);
  if (wire === WIRE.START_GROUP || wire === WIRE.END_GROUP) throw new ProtobufError(`groups (wire type ${wire}) are not supported, at byte ${pos}`);
  if (wire > 5) throw new ProtobufError(`invalid wire type ${wire} at byte ${pos}`);
  return { field, wire, size };
}

const utf8 = new TextDecoder("utf-8");

/** A field as read by Reader: the scalar for varint/fixed wire types, the byte range for LEN. */
export interface Field {
  field: number;
  wire: number;
  /** Varint value, or the fixed32/fixed64 bits read as an unsigned integer (use the byte range for floats). */
  value: number;
  /** Start and end of the payload within the reader's buffer. */
  start: number;
  end: number;
}

/** Reads the fields of one message held whole in memory, in order. */
export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end: number = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field; its payload is skipped over (read it through start/end). */
  next(): Field {
    const at = this.pos;
    const h = decodeTag(this.buf, at, this.end);
    let p = at + h.size;
    let value = 0;
    let start = p;
    switch (h.wire) {
      case WIRE.VARINT: {
        const [v, n] = decodeVarint(this.buf, p, this.end);
        value = v;
        p += n;
        break;
      }
      case WIRE.FIXED64:
        if (p + 8 > this.end) throw new ProtobufError(`truncated fixed64 field ${h.field} at byte ${at}`);
        value = readUint32LE(this.buf, p) + readUint32LE(this.buf, p + 4) * TWO_32;
        p += 8;
        break;
      case WIRE.FIXED32:
        if (p + 4 > this.end) throw new ProtobufError(`truncated fixed32 field ${h.field} at byte ${at}`);
        value = readUint32LE(this.buf, p);
        p += 4;
        break;
      case WIRE.LEN: {
        const [len, n] = decodeVarint(this.buf, p, this.end);
        p += n;
        if (len < 0 || p + len > this.end) throw new ProtobufError(`field ${h.field} at byte ${at} claims ${len} bytes; only ${this.end - p} remain`);
        start = p;
        p += len;
        value = len;
        break;
      }
    }
    this.pos = p;
    return { field: h.field, wire: h.wire, value, start, end: h.wire === WIRE.LEN ? p : start };
  }

  string(f: Field): string {
    expectWire(f, WIRE.LEN);
    return utf8.decode(this.buf.subarray(f.start, f.end));
  }

  bytes(f: Field): Uint8Array {
    expectWire(f, WIRE.LEN);
    return this.buf.subarray(f.start, f.end);
  }

  /** A reader over a submessage field. */
  sub(f: Field): Reader {
    expectWire(f, WIRE.LEN);
    return new Reader(this.buf, f.start, f.end);
  }

  /** An int32/int64/enum field. */
  int(f: Field): number {
    expectWire(f, WIRE.VARINT);
    return f.value;
  }

  /** A repeated varint field, packed (one LEN field) or not. */
  ints(f: Field): number[] {
    if (f.wire === WIRE.VARINT) return [f.value];
    expectWire(f, WIRE.LEN);
    const out: number[] = [];
    for (let p = f.start; p < f.end; ) {
      const [v, n] = decodeVarint(this.buf, p, f.end);
      out.push(v);
      p += n;
    }
    return out;
  }
}

export function expectWire(f: { field: number; wire: number }, wire: number): void {
  if (f.wire !== wire) throw new ProtobufError(`field ${f.field} has wire type ${f.wire}; expected ${wire}`);
}

function readUint32LE(buf: Uint8Array, p: number): number {
  return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
}

const utf8Encoder = new TextEncoder();

/**
 * Builds one message. Submessages are written by a nested Writer and added with `message`, so lengths are
 * known before they are written; the chunks are joined once, at `finish`.
 */
export class Writer {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  private flush(): void {
    if (!this.scratch.length) return;
    const b = Uint8Array.from(this.scratch);
    this.chunks.push(b);
    this.size += b.length;
    this.scratch = [];
  }

  private raw(bytes: Uint8Array): void {
    this.flush();
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** A varint; negative numbers as int64 two's complement (ten bytes), as protobuf writes int32/int64. */
  varint(v: number | bigint): this {
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) {
      while (v >= 0x80) {
        this.scratch.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      this.scratch.push(v);
      return this;
    }
    if (typeof v === "number" && !Number.isSafeInteger(v)) throw new ProtobufError(`cannot encode ${v} as a varint: not a safe integer`);
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 0x80n) {
      this.scratch.push(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    this.scratch.push(Number(b));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, v: number | bigint): this {
    return this.tag(field, WIRE.VARINT).varint(v);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE.LEN).varint(b.length);
    this.raw(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8Encoder.encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.tag(field, WIRE.FIXED32);
    this.raw(b);
    return this;
  }

  double(field: number, v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.tag(field, WIRE.FIXED64);
    this.raw(b);
    return this;
  }

  fixed32(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.tag(field, WIRE.FIXED32);
    this.raw(b);
    return this;
  }

  fixed64(field: number, v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.tag(field, WIRE.FIXED64);
    this.raw(b);
    return this;
  }

  /** A repeated varint field, packed. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    if (!values.length) return this;
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    return this.message(field, inner);
  }

  /** A repeated float field, packed. */
  packedFloats(field: number, values: readonly number[]): this {
    if (!values.length) return this;
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}
