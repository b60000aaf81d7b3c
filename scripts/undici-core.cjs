// Bundled in place of 'undici' (see build.mjs). undici's index loads all of it (fetch,
// WebSocket, caches, mocks: 1 MB, and it wakes Node's own copy of undici too), ~45 ms of every
// run; idsync uses only an Agent and request(). These are the same modules the index
// re-exports. An import of anything else from 'undici' fails the build, loudly.
'use strict';
const Agent = require('undici/lib/dispatcher/agent');
const apiRequest = require('undici/lib/api/api-request');

/** undici's request(url, opts), for callers that always pass their own dispatcher. */
function request(url, opts) {
  if (!opts || !opts.dispatcher) throw new TypeError('request() needs an explicit dispatcher in idsync');
  const u = new URL(url);
  return apiRequest.call(opts.dispatcher, {
    ...opts,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: opts.method || (opts.body ? 'PUT' : 'GET'),
  });
}

module.exports = { Agent, request };
