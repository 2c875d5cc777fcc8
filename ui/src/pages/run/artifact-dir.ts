import { useQuery } from "@tanstack/react-query";
import { useClient } from "../../lib/api";

/**
 * One folder of a run's artifacts (`rel` below the run's artifact root), listed through the artifact proxy.
 * The tree and the preview share it: the preview reads the chosen file's size from its folder's listing.
 */
export function useArtifactDir(root: string, rel: string, enabled = true) {
  const client = useClient();
  return useQuery({
    queryKey: ["artifacts", root, rel],
    queryFn: ({ signal }) => client.listArtifacts(rel ? `${root}/${rel}` : root, { signal }),
    enabled,
    staleTime: 10_000,
  });
}
