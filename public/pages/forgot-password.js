// The forgot-password page: asks the API to email a reset link. The API answers the same for every
// address, and so does this page.
import { describeFailure, finish, postJson, setBusy, setFieldError, showStatus } from "./base.js";

const form = document.getElementById("forgot-form");
const email = document.getElementById("email");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  setFieldError(email, "");
  if (!email.checkValidity()) {
    setFieldError(email, "Enter the email address of your account.");
    return;
  }
  setBusy(form, true, "Sending…");
  const result = await postJson("/auth/password/forgot", { email: email.value });
  setBusy(form, false);
  if (result.ok) {
    finish(form, "success", "If this address has an account, a reset link is on its way. Check your inbox.");
  } else {
    showStatus("error", describeFailure(result));
  }
});
