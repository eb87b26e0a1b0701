/**
 * The web remote (web.ts): its two pages, the web app manifest and the
 * hashed assets, all public — they hold no data; everything they show comes
 * from the API, authenticated by the session cookie (cookie-auth.ts).
 * `/connect` is where invite links lead (`/connect#code=…`: the code stays
 * in the fragment, which the browser never sends).
 */
import { ApiError } from '../respond.js';
import { sendAsset } from '../web.js';
import { HANDLED, type ApiRoute, type Call, type RouteContract } from './types.js';

function notBuilt(): ApiError {
  return new ApiError(404, 'web.not_built', 'the web remote is not part of this build', { hint: 'build it with npm run build' });
}

function file(path: string) {
  return (c: Call) => {
    const web = c.app.web;
    if (web === null) throw notBuilt();
    const asset = web.get(path);
    if (asset === undefined) throw notBuilt();
    sendAsset(c.req, c.res, asset);
    return HANDLED;
  };
}

function asset(c: Call) {
  const web = c.app.web;
  if (web === null) throw notBuilt();
  const a = web.get(`/assets/${c.params.file}`);
  if (a === undefined) throw new ApiError(404, 'web.not_found', 'no such file');
  sendAsset(c.req, c.res, a);
  return HANDLED;
}

function page(summary: string, media: string): RouteContract {
  return { summary, answers: { 200: { description: summary, media } }, errors: { 404: 'the web remote is not part of this build (web.not_built)' } };
}

export const WEB_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/', scope: 'public', handler: file('/'), contract: page('The web remote', 'text/html') },
  { method: 'GET', path: '/connect', scope: 'public', handler: file('/connect'), contract: page('The web remote\'s pairing page (invite links lead here)', 'text/html') },
  { method: 'GET', path: '/manifest.webmanifest', scope: 'public', handler: file('/manifest.webmanifest'), contract: page('The web app manifest', 'application/manifest+json') },
  {
    method: 'GET', path: '/assets/{file}', scope: 'public', handler: asset,
    contract: {
      summary: 'A web remote asset (hashed name, cached for a year)',
      request: { params: { file: { type: 'string', minLength: 1, maxLength: 128, description: 'NAME.HASH.EXT' } } },
      answers: { 200: { description: 'the file', media: '*/*' } },
      errors: { 404: 'no such file' },
    },
  },
];
