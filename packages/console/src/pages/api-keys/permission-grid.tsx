import type { CatalogueResponse } from '@keyward/wire';

export interface PermissionGridProps {
  readonly catalogue: CatalogueResponse;
  readonly selected: readonly string[];
  readonly onChange: (permissions: string[]) => void;
  /** Null when the permission may be granted, else why not (shown beside it). */
  readonly unavailable: (permission: string) => string | null;
  readonly describedBy?: string | undefined;
}

/**
 * The category × read / write grid of restricted keys. Read-only categories say so in the write
 * column; a write grant includes read (as the server applies it); what the person cannot grant is
 * disabled with the reason.
 */
export function PermissionGrid({ catalogue, selected, onChange, unavailable, describedBy }: PermissionGridProps) {
  const chosen = new Set(selected);
  const toggle = (permission: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) {
      next.add(permission);
      if (permission.endsWith(':write')) next.add(permission.replace(/:write$/, ':read'));
    } else {
      next.delete(permission);
    }
    onChange(orderLike(catalogue, next));
  };
  const readable = catalogue.categories.map((c) => `${c.name}:read`).filter((p) => !unavailable(p));
  const manage = catalogue.permissions.includes('organization:manage') ? 'organization:manage' : null;
  const manageReason = manage ? unavailable(manage) : null;

  return (
    <div className="permission-grid" aria-describedby={describedBy}>
      <div className="grid-tools">
        <button type="button" className="button button-ghost button-small" onClick={() => onChange(orderLike(catalogue, new Set([...chosen, ...readable])))}>
          Select all read
        </button>
        <button type="button" className="button button-ghost button-small" onClick={() => onChange([])} disabled={chosen.size === 0}>
          Clear
        </button>
      </div>
      <table className="table table-compact">
        <caption className="visually-hidden">Permissions by category</caption>
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col" className="col-check">
              Read
            </th>
            <th scope="col" className="col-check">
              Write
            </th>
          </tr>
        </thead>
        <tbody>
          {catalogue.categories.map((category) => {
            const read = `${category.name}:read`;
            const write = `${category.name}:write`;
            const canWrite = category.actions.includes('write');
            const readReason = unavailable(read);
            const writeReason = canWrite ? unavailable(write) : null;
            const writeChosen = chosen.has(write);
            return (
              <tr key={category.name}>
                <th scope="row" className="grid-category">
                  <span className="grid-label">{category.label}</span>
                  <span className="grid-description">{category.descriptions?.read ?? category.name}</span>
                </th>
                <td className="col-check">
                  <label className="check-cell" title={readReason ?? (writeChosen ? 'Included with write' : category.descriptions?.read)}>
                    <input
                      type="checkbox"
                      checked={chosen.has(read) || writeChosen}
                      disabled={Boolean(readReason) || writeChosen}
                      onChange={(event) => toggle(read, event.target.checked)}
                      aria-label={`${category.label}: read${readReason ? ` (unavailable: ${readReason})` : ''}`}
                    />
                  </label>
                  {readReason ? <span className="unavailable">{readReason}</span> : null}
                </td>
                <td className="col-check">
                  {canWrite ? (
                    <>
                      <label className="check-cell" title={writeReason ?? category.descriptions?.write}>
                        <input
                          type="checkbox"
                          checked={writeChosen}
                          disabled={Boolean(writeReason)}
                          onChange={(event) => toggle(write, event.target.checked)}
                          aria-label={`${category.label}: write${writeReason ? ` (unavailable: ${writeReason})` : ''}`}
                        />
                      </label>
                      {writeReason ? <span className="unavailable">{writeReason}</span> : null}
                    </>
                  ) : (
                    <span className="read-only-note">Read only</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {manage ? (
        <label className={`check-row${manageReason ? ' is-disabled' : ''}`}>
          <input
            type="checkbox"
            checked={chosen.has(manage)}
            disabled={Boolean(manageReason)}
            onChange={(event) => toggle(manage, event.target.checked)}
          />
          <span>
            <span className="check-title">Organization administration</span>{' '}
            <code>organization:manage</code>
            <span className="check-hint">Manage members, every API key and signing keys through the API.</span>
            {manageReason ? <span className="unavailable">{manageReason}</span> : null}
          </span>
        </label>
      ) : null}
    </div>
  );
}

function orderLike(catalogue: CatalogueResponse, chosen: Set<string>): string[] {
  return catalogue.permissions.filter((p) => chosen.has(p));
}
