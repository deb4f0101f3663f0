package simulator

import "net/http"

// addDirectoryRoutes registers the directory families beyond users and domains: groups and their
// membership, delta queries, invitations and conversion, managers, getByIds.
func (s *Server) addDirectoryRoutes(rt *router) {
	s.addGroupRoutes(rt)
	s.addDeltaRoutes(rt)
	s.addInvitationRoutes(rt)
	rt.add(http.MethodGet, "/users/{id}/manager", permUsersRead, getManager(false))
	rt.add(http.MethodGet, "/users/{id}/manager/$ref", permUsersRead, getManager(true))
	rt.add(http.MethodPut, "/users/{id}/manager/$ref", permUsersWrite, putManager)
	rt.add(http.MethodDelete, "/users/{id}/manager/$ref", permUsersWrite, deleteManager)
	rt.add(http.MethodPost, "/directoryObjects/getByIds", permDirectoryRead, getByIDs)
}
