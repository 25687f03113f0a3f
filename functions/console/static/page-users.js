// The organisation and its users: admins create users, change their roles and passwords and
// delete them; every user changes its own password.
import { html, useState } from "./lib.js";
import { all, del, get, patch, post, signOut } from "./api.js";
import { useAction, useLoad } from "./hooks.js";
import { Button, Confirm, Dialog, ErrorNote, Input, Loading, PageHeading, Select, Status, TableRegion, Time } from "./ui.js";

const ROLES = [["member", "Member"], ["admin", "Admin"]];

function Organisation({ admin }) {
  const org = useLoad(() => get("/api/orgs/self"), []);
  const [name, setName] = useState(null);
  const save = useAction(async () => org.set(await patch("/api/orgs/self", { name })));
  if (org.data === undefined) return html`<${Loading} state=${org} what="the organisation" />`;
  const submit = (event) => { event.preventDefault(); save.run(); };
  return html`<section aria-labelledby="org">
    <h2 id="org">Organisation</h2>
    <p>Name: <strong>${org.data.name}</strong>, id <code>${org.data.id}</code>.</p>
    ${admin && html`<form class="inline" onSubmit=${submit} novalidate>
      <${Input} label="Organisation name" name="name" value=${name ?? org.data.name} onValue=${setName}
        maxlength="200" error=${save.error} />
      <${Button} type="submit" busy=${save.busy} busyLabel="Renaming…">Rename organisation<//>
    </form><${ErrorNote} error=${save.error} />`}
  </section>`;
}

function PasswordDialog({ user, self, onClose, onDone }) {
  const [password, setPassword] = useState("");
  const [current, setCurrent] = useState("");
  const action = useAction(async () => {
    const body = self ? { password, current_password: current } : { password };
    await patch(`/api/users/${user.id}`, body);
    onDone();
  });
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<${Dialog} open=${true} title=${`New password for ${user.username}`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      ${self && html`<${Input} label="Current password" name="current_password" type="password"
        autocomplete="current-password" value=${current} onValue=${setCurrent} error=${action.error} />`}
      <${Input} label="New password" name="password" type="password" autocomplete="new-password"
        value=${password} onValue=${setPassword} hint="8 to 256 characters." error=${action.error} />
      <p class="hint">${self ? "Your other sessions end; this one too: you sign in again."
        : "Every session of this user ends."}</p>
      <${ErrorNote} error=${action.error} />
      <div class="actions">
        <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Saving…">Set password<//>
        <button type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function CreateUser({ onCreated }) {
  const [form, setForm] = useState({ username: "", password: "", role: "member" });
  const field = (name) => (v) => setForm((f) => ({ ...f, [name]: v }));
  const action = useAction(async () => {
    const user = await post("/api/users", form);
    setForm({ username: "", password: "", role: "member" });
    onCreated(user);
  });
  const submit = (event) => { event.preventDefault(); action.run(); };
  return html`<section aria-labelledby="create-user">
    <h2 id="create-user">Add a user</h2>
    <form onSubmit=${submit} novalidate class="inline">
      <${Input} label="User name" name="username" value=${form.username} onValue=${field("username")}
        autocomplete="off" autocapitalize="none" spellcheck="false" error=${action.error} />
      <${Input} label="Password" name="password" type="password" autocomplete="new-password"
        value=${form.password} onValue=${field("password")} error=${action.error} />
      <${Select} label="Role" name="role" value=${form.role} onValue=${field("role")} options=${ROLES} error=${action.error} />
      <${Button} type="submit" class="primary" busy=${action.busy} busyLabel="Adding…">Add user<//>
    </form>
    <${ErrorNote} error=${action.error} />
  </section>`;
}

function UserRow({ user, me, onChanged, onDialog }) {
  const role = useAction(async () => onChanged(await patch(`/api/users/${user.id}`,
    { role: user.role === "admin" ? "member" : "admin" })));
  return html`<tr>
    <td>${user.username}${user.id === me.id ? " (you)" : ""}</td>
    <td>${user.role}</td>
    <td class="wide"><${Time} ms=${Date.parse(user.created_at)} /></td>
    <td class="row-actions">
      <${Button} busy=${role.busy} busyLabel="Changing…" onClick=${() => role.run()}
        aria-label=${`${user.role === "admin" ? "Make member" : "Make admin"}: ${user.username}`}>
        ${user.role === "admin" ? "Make member" : "Make admin"}<//>
      <button type="button" aria-label=${`Set password: ${user.username}`}
        onClick=${() => onDialog({ kind: "password", user })}>Set password</button>
      <button type="button" class="danger" aria-label=${`Delete user ${user.username}`}
        onClick=${() => onDialog({ kind: "delete", user })}>Delete</button>
      <${ErrorNote} error=${role.error} />
    </td></tr>`;
}

function DeleteUser({ user, onClose, onDone }) {
  const action = useAction(async () => { await del(`/api/users/${user.id}`); onDone(); });
  return html`<${Confirm} open=${true} title=${`Delete user ${user.username}?`} confirmLabel="Delete user"
    busyLabel="Deleting…" action=${action} onConfirm=${() => action.run()} onCancel=${onClose}>
    <p>${user.username} can no longer sign in, and every session of theirs ends.</p>
  <//>`;
}

export function UsersPage({ session }) {
  const me = session.user;
  const admin = me.role === "admin";
  const users = useLoad(() => (admin ? all("/api/users") : Promise.resolve([me])), [admin]);
  const [dialog, setDialog] = useState(null);
  const [note, setNote] = useState(null);
  const done = (text) => { setDialog(null); setNote(text); users.reload(); };
  return html`<${PageHeading}>${admin ? "Users" : "Your account"}<//>
    <${Organisation} admin=${admin} />
    <section aria-labelledby="user-list">
      <h2 id="user-list">${admin ? "Users of the organisation" : "You"}</h2>
      <${Loading} state=${users} what="users" />
      ${users.data && html`<${TableRegion} label="Users"><table>
        <thead><tr><th scope="col">User name</th><th scope="col">Role</th><th scope="col" class="wide">Created</th><th scope="col">Actions</th></tr></thead>
        <tbody>${users.data.map((u) => admin ? html`<${UserRow} key=${u.id} user=${u} me=${me}
            onChanged=${(changed) => done(`${changed.username} is now ${changed.role === "admin" ? "an admin" : "a member"}.`)}
            onDialog=${setDialog} />`
          : html`<tr key=${u.id}><td>${u.username}</td><td>${u.role}</td><td class="wide"><${Time} ms=${Date.parse(u.created_at)} /></td>
            <td><button type="button" onClick=${() => setDialog({ kind: "password", user: u })}>Change your password</button></td></tr>`)}
        </tbody></table><//>`}
      ${note && html`<${Status}>${note}<//>`}
    </section>
    ${admin && html`<${CreateUser} onCreated=${(u) => done(`User ${u.username} added.`)} />`}
    ${dialog?.kind === "password" && html`<${PasswordDialog} user=${dialog.user} self=${dialog.user.id === me.id}
      onClose=${() => setDialog(null)}
      onDone=${() => (dialog.user.id === me.id ? signOut("Your password changed: sign in with the new one.")
        : done(`Password of ${dialog.user.username} changed.`))} />`}
    ${dialog?.kind === "delete" && html`<${DeleteUser} user=${dialog.user} onClose=${() => setDialog(null)}
      onDone=${() => done(`User ${dialog.user.username} deleted.`)} />`}`;
}
