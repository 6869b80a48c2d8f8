// The reset-password page: a new password (twice) for the token of the emailed link.
import { describeFailure, finish, postJson, setBusy, setFieldError, showStatus, takeToken } from "./base.js";

const form = document.getElementById("reset-form");
const password = document.getElementById("new-password");
const confirmation = document.getElementById("confirm-password");
const token = takeToken();

/** Characters as the API counts them (code points), so an emoji counts as one. */
const length = (text) => [...text].length;

if (token === null) {
  form.hidden = true;
  showStatus("error", "This link has no token. Open the link from your email again, or request a new one.");
  document.getElementById("next-steps").hidden = false;
} else {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(confirmation, "");
    setFieldError(password, "");
    showStatus("info", "");
    const minimum = Number(password.getAttribute("minlength") ?? "8");
    if (length(password.value) < minimum) {
      setFieldError(password, `Use at least ${minimum} characters.`);
      return;
    }
    if (password.value !== confirmation.value) {
      setFieldError(confirmation, "The two passwords are not the same.");
      return;
    }
    setBusy(form, true, "Saving…");
    const result = await postJson("/auth/password/reset", { token, new_password: password.value });
    setBusy(form, false);
    if (result.ok) {
      finish(form, "success", "Your password is changed, and every session of your account was signed out. Sign in with the new password.");
      return;
    }
    const passwordIssue = result.body?.errors?.find((issue) => issue.path === "body.new_password" || issue.path === "new_password");
    if (passwordIssue) {
      setFieldError(password, passwordIssue.message);
    } else if (result.body?.code === "invalid_token") {
      finish(form, "error", describeFailure(result));
    } else {
      showStatus("error", describeFailure(result));
    }
  });
}
