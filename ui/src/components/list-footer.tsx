/**
 * Below a paged list: "Loading…" for the first page, a message when it is empty, and a button for the next
 * page while there is one (the experiments and models lists, the audit log).
 */
interface PagedList {
  isPending: boolean;
  isError: boolean;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage(): unknown;
}

export function ListFooter({ list, empty, count, more = "Load more" }: { list: PagedList; empty: string; count: number; more?: string }) {
  return (
    <>
      {list.isPending && <p className="muted">Loading…</p>}
      {!list.isPending && !list.isError && count === 0 && <p className="empty">{empty}</p>}
      {list.hasNextPage && (
        <button type="button" className="secondary" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {list.isFetchingNextPage ? "Loading…" : more}
        </button>
      )}
    </>
  );
}
