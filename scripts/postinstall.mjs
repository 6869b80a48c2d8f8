// Runs after `npm install` / `npm ci`: puts Swagger UI's files where the worker serves them.
import { copySwaggerAssets } from "./lib.mjs";

copySwaggerAssets();
