import { test } from "node:test";
import assert from "node:assert/strict";
import { backendClientId } from "../lab/visitor.mjs";

test("the backend's own client id (no _ga): stable per customer, distinct between customers, in gtag's shape", () => {
  const a = backendClientId("v0001@lab-shop.test");
  assert.equal(backendClientId("v0001@lab-shop.test"), a);
  assert.notEqual(backendClientId("v0002@lab-shop.test"), a);
  assert.match(a, /^\d{1,10}\.\d{10}$/);
});
