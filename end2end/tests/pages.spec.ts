import { test, expect, hydrated } from "./fixtures";

test("new meeting creates an unguessable room and lands in it", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Video meetings");
  await hydrated(page);
  await page.getByTestId("new-meeting").click();
  await expect(page).toHaveURL(/\/room\/[A-Za-z0-9]{12}$/);
  const id = new URL(page.url()).pathname.split("/").pop();
  await expect(page.getByTestId("room-id")).toHaveText(id!);
});

test("join by name validates as you type (hydrated) and navigates", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const input = page.getByLabel("Room name");
  const join = page.getByRole("button", { name: "Join", exact: true });
  await input.fill("bad name!");
  await expect(page.locator("#room-name-problem")).toContainText("may only contain");
  await expect(join).toBeDisabled();
  await input.fill("team-sync");
  await expect(page.locator("#room-name-problem")).toBeEmpty();
  await join.click();
  await expect(page).toHaveURL(/\/room\/team-sync$/);
  await expect(page.getByTestId("room-id")).toHaveText("team-sync");
});

test("the room page is server-rendered before the wasm loads", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto("/room/abc123XYZ90");
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId("room-id")).toHaveText("abc123XYZ90");
  await context.close();
});

test("unknown pages answer 404 and invalid room ids 400", async ({ browser }) => {
  // Its own page: the browser logs the 404/400 document loads as console errors, which are the
  // point here; any other error still fails the test.
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[04]/.test(m.text())) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  const missing = await page.goto("/no/such/page");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This page does not exist");
  const invalid = await page.goto("/room/not.a.room");
  expect(invalid?.status()).toBe(400);
  await expect(page.getByTestId("invalid-room")).toContainText("not valid");
  await hydrated(page);
  expect(errors).toEqual([]);
  await page.close();
});
