/** The dashboard's three static files, embedded so the build has nothing to copy and no CDN is needed. */
export { DASHBOARD_HTML } from './html.js';
export { DASHBOARD_CSS } from './style.js';
export { DASHBOARD_JS } from './script.js';
