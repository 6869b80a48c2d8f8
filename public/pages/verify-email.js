// The verify-email page: the emailed link only opens this page; the address is confirmed when the
// person presses the button (a POST), so a mail scanner that follows links cannot use the token.
import { describeFailure, finish, postJson, setBusy, showStatus, takeToken } from "./base.js";

const form = document.getElementById("verify-form");
const token = takeToken();

if (token === null) {
  form.hidden = true;
  showStatus("error", "This link has no token. Open the link from your email again.");
} else {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setBusy(form, true, "Confirming…");
    const result = await postJson("/auth/verify-email", { token });
    setBusy(form, false);
    if (result.ok) {
      finish(form, "success", "Your email address is confirmed. You can now sign in.");
    } else if (result.body?.code === "invalid_token") {
      finish(form, "error", `${describeFailure(result)} Sign in to see whether your address is already confirmed, or request a new email.`);
    } else {
      showStatus("error", describeFailure(result));
    }
  });
}
