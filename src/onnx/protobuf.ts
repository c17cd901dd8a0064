/**
 * A minimal Protocol Buffers encoder (the wire format of
 * https://protobuf.dev/programming-guides/encoding/): varints (wire type 0), length-delimited
 * fields (2) and 32-bit floats (5). Enough to write ONNX models; repeated scalars are written
 * unpacked (one field per value), which every proto2 and proto3 parser accepts.
 */

/** Bytes of one message under construction. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: bigint): void {
    const out: number[] = [];
    let x = BigInt.asUintN(64, v); // negative int64 values are 10-byte two's complement varints
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      out.push(byte);
    } while (x !== 0n);
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  /** An int32 / int64 / enum / bool field. */
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
    return this;
  }

  /** A float (fixed32) field. */
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  /** A bytes field. */
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(b.length));
    this.push(b);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** An embedded message field. */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
