// FHIR decimals carry their precision in their text: 1.0 and 1 are different values, and 0.010 has one
// more significant digit than 0.01 (FHIR R4 datatypes: "the precision of the decimal value has
// significance"). JavaScript numbers forget that, so a plain JSON.parse/JSON.stringify round trip turns
// the generated "value": 1.0 into "value": 1. Node 22 has JSON.parse source text access and
// JSON.rawJSON, which let us keep the exact text of every number:
//   - the data split keeps numbers as raw JSON (it never computes with them);
//   - the FHIR server keeps real numbers inside Medplum (searches compare them) and remembers where a
//     number's text differs from JavaScript's own rendering, to put the original text back on output.

/**
 * Parses JSON, keeping every number whose text differs from JavaScript's rendering as raw JSON.
 * `JSON.stringify` of the result reproduces those numbers exactly.
 * @param {string} text
 */
export function parseKeepingNumbers(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value === 'number' && context?.source !== undefined && context.source !== String(value)) {
      return JSON.rawJSON(context.source);
    }
    return value;
  });
}

class RawNumber {
  constructor(value, source) {
    this.value = value;
    this.source = source;
  }
}

/**
 * Parses one resource for the server: numbers become plain numbers, and the returned `decimals` list
 * says where the original text differs (path from the resource root, and the original text).
 * @param {string} text
 * @returns {{ value: any, decimals: Array<{ path: (string|number)[], source: string }> }}
 */
export function parseWithDecimals(text) {
  let any = false;
  const value = JSON.parse(text, (key, v, context) => {
    if (typeof v === 'number' && context?.source !== undefined && context.source !== String(v)) {
      any = true;
      return new RawNumber(v, context.source);
    }
    return v;
  });
  const decimals = [];
  if (any) collect(value, [], decimals);
  return { value, decimals };
}

function collect(node, path, out) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      if (node[i] instanceof RawNumber) {
        out.push({ path: [...path, i], source: node[i].source });
        node[i] = node[i].value;
      } else if (node[i] && typeof node[i] === 'object') collect(node[i], [...path, i], out);
    }
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (v instanceof RawNumber) {
        out.push({ path: [...path, k], source: v.source });
        node[k] = v.value;
      } else if (v && typeof v === 'object') collect(v, [...path, k], out);
    }
  }
}

/**
 * Puts the original number texts back into a resource about to be serialised. A number is replaced
 * only if it is still there and still has the same value (the resource may have been changed since).
 * @param {object} resource mutated in place
 * @param {Array<{ path: (string|number)[], source: string }>} decimals
 */
export function restoreDecimals(resource, decimals) {
  for (const { path, source } of decimals ?? []) {
    let node = resource;
    for (let i = 0; i < path.length - 1 && node; i++) node = node[path[i]];
    const last = path[path.length - 1];
    if (node && typeof node[last] === 'number' && node[last] === Number(source)) {
      node[last] = JSON.rawJSON(source);
    }
  }
  return resource;
}
