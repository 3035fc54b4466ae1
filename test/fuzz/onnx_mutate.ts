// Structure-aware ONNX mutation: decode the ModelProto with nnzip's own schema, edit
// one field of one message (walking the schema by reflection, so every field of every
// nested message is a site, set or not), encode again. The bytes stay a valid protobuf;
// what changes is what the fields say.
import protobuf from 'protobufjs';
import { modelProtoType } from '../../src/onnx/onnx_proto.js';
import { interestingBytes, interestingFloat, interestingInt, interestingString, type Edit } from './values.js';

type Obj = Record<string, unknown>;

interface Site {
  parent: Obj;
  field: protobuf.Field;
}

/** The ModelProto as a plain object: only the fields that are set, int64 as numbers. */
export function onnxToObject(bytes: Uint8Array): Obj {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as Obj;
}

export function objectToOnnx(obj: Obj): Uint8Array {
  const type = modelProtoType();
  return type.encode(type.fromObject(obj)).finish();
}

function collect(obj: Obj, type: protobuf.Type, sites: Site[], strings: string[]): void {
  for (const field of type.fieldsArray) {
    sites.push({ parent: obj, field });
    const v = obj[field.name];
    if (v === undefined || v === null) continue;
    const values = field.repeated ? (v as unknown[]) : [v];
    for (const el of values) {
      if (field.resolvedType instanceof protobuf.Type) collect(el as Obj, field.resolvedType, sites, strings);
      else if (typeof el === 'string') strings.push(el);
    }
  }
}

const INT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

/** A new value for one scalar (or message) of the field's type. */
function scalar(field: protobuf.Field, old: unknown, e: Edit, strings: string[]): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return e.a % 3 === 0 ? {} : structuredClone(old ?? {});
  if (t instanceof protobuf.Enum) return e.a % 2 ? Object.values(t.values)[e.b % Object.values(t.values).length] : e.b % 32;
  if (INT_TYPES.has(field.type)) return interestingInt(typeof old === 'number' ? old : 0, e.b);
  if (field.type === 'float' || field.type === 'double') return interestingFloat(typeof old === 'number' ? old : 0, e.b);
  if (field.type === 'string') return interestingString(strings, e.b);
  if (field.type === 'bytes') return interestingBytes(old instanceof Uint8Array ? old : new Uint8Array(0), e.a, e.b, e.a ^ e.b);
  return e.b % 2 === 1;
}

function editRepeated(site: Site, e: Edit, strings: string[]): void {
  const list = ((site.parent[site.field.name] as unknown[] | undefined) ?? []).slice();
  const at = list.length ? e.a % list.length : 0;
  switch (e.op % 6) {
    case 0:
      list.length = 0;
      break;
    case 1:
      list.splice(at, 1);
      break;
    case 2:
      if (list.length) list.splice(at, 0, structuredClone(list[at]));
      break;
    case 3:
      list.reverse();
      break;
    case 4:
      list.push(scalar(site.field, list[at], e, strings));
      break;
    default:
      if (list.length) list[at] = scalar(site.field, list[at], e, strings);
      else list.push(scalar(site.field, undefined, e, strings));
  }
  site.parent[site.field.name] = list;
}

/** Applies the edits in order to a copy of the decoded model and encodes it. */
export function mutateOnnx(seed: Obj, edits: readonly Edit[]): Uint8Array {
  const model = structuredClone(seed);
  for (const e of edits) {
    const sites: Site[] = [];
    const strings: string[] = [];
    collect(model, modelProtoType(), sites, strings);
    const site = sites[e.site % sites.length];
    if (site.field.repeated) editRepeated(site, e, strings);
    else if (e.op % 4 === 0) delete site.parent[site.field.name];
    else site.parent[site.field.name] = scalar(site.field, site.parent[site.field.name], e, strings);
  }
  return objectToOnnx(model);
}
