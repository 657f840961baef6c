// One-node ONNX models written in memory, so the engine can run onnxruntime's kernels (e.g. its
// multithreaded float64 GEMM) without shipping model files. A few fields of onnx.proto3 are enough:
// ModelProto { ir_version 1, producer_name 2, graph 7, opset_import 8 }, GraphProto { node 1, name 2,
// input 11, output 12 }, NodeProto { input 1, output 2, name 3, op_type 4, attribute 5 },
// AttributeProto { name 1, i 3, type 20 }, ValueInfoProto { name 1, type 2 }, TypeProto { tensor_type 1 },
// TypeProto.Tensor { elem_type 1, shape 2 }, TensorShapeProto { dim 1 }, Dimension { dim_param 2 }.

/** onnx.TensorProto.DataType values the engine uses. */
export const ONNX_FLOAT = 1;
export const ONNX_DOUBLE = 11;

const utf8 = new TextEncoder();

function varint(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`protobuf varint must be a non-negative integer, got ${n}`);
  const out: number[] = [];
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

const cat = (...parts: number[][]): number[] => parts.flat();
const field = (num: number, wire: 0 | 2): number[] => varint(num * 8 + wire);
const message = (num: number, body: number[]): number[] => cat(field(num, 2), varint(body.length), body);
const text = (num: number, s: string): number[] => message(num, [...utf8.encode(s)]);
const int = (num: number, v: number): number[] => cat(field(num, 0), varint(v));

export interface GraphValue {
  name: string;
  elemType: number;
  /** Symbolic dimension names (any size at run time). */
  dims: string[];
}

export interface OneNodeGraph {
  op: string;
  inputs: GraphValue[];
  outputs: GraphValue[];
  /** Integer attributes (e.g. Gemm's transA). */
  intAttrs?: Record<string, number>;
  opset?: number;
}

function valueInfo(v: GraphValue): number[] {
  const shape = cat(...v.dims.map((d) => message(1, text(2, d))));
  return cat(text(1, v.name), message(2, message(1, cat(int(1, v.elemType), message(2, shape)))));
}

/** Serialized ModelProto (IR 8, default domain) holding a single node. */
export function oneNodeModel(g: OneNodeGraph): Uint8Array {
  const attrs = Object.entries(g.intAttrs ?? {}).map(([name, v]) => message(5, cat(text(1, name), int(3, v), int(20, 2))));
  const node = cat(...g.inputs.map((v) => text(1, v.name)), ...g.outputs.map((v) => text(2, v.name)), text(3, g.op.toLowerCase()), text(4, g.op), ...attrs);
  const graph = cat(message(1, node), text(2, `toklab-${g.op.toLowerCase()}`), ...g.inputs.map((v) => message(11, valueInfo(v))), ...g.outputs.map((v) => message(12, valueInfo(v))));
  return Uint8Array.from(cat(int(1, 8), text(2, 'toklab'), message(7, graph), message(8, cat(text(1, ''), int(2, g.opset ?? 13)))));
}
