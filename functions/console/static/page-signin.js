// Sign-in: the token it gets is kept in memory only (api.js).
import { html, useState } from "./lib.js";
import { lastNotice, signIn } from "./api.js";
import { useAction } from "./hooks.js";
import { Button, ErrorNote, Input, PageHeading } from "./ui.js";

export function SignInPage() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction(() => signIn(username.trim(), password));
  const notice = lastNotice();
  const submit = (event) => {
    event.preventDefault();
    action.run();
  };
  return html`<main id="main" class="signin">
    <${PageHeading}>Sign in to Stratus<//>
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    <form onSubmit=${submit} novalidate>
      <${Input} label="User name" name="username" value=${username} onValue=${setUsername}
        autocomplete="username" autocapitalize="none" spellcheck="false" required
        error=${action.error} />
      <${Input} label="Password" name="password" type="password" value=${password}
        onValue=${setPassword} autocomplete="current-password" required error=${action.error} />
      <${ErrorNote} error=${action.error} />
      <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Signing in…">Sign in<//>
    </form>
    <p class="hint">The session lasts until you sign out, reload the page or the token expires.</p>
  </main>`;
}
