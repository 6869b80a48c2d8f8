// Runs after `npm install` / `npm ci`: puts Swagger UI's files and the hosted pages' browser
// libraries where the worker serves them.
import { copySwaggerAssets } from "./lib.mjs";
import { buildPageVendor } from "./page-vendor.mjs";

copySwaggerAssets();
buildPageVendor({ force: true });
